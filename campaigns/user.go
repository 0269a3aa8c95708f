package campaigns

import "time"

// Role is what a named user of dispatch may do.
type Role string

// The roles. Marketers run campaigns; ops watch queues; privacy officers handle members' rights;
// admins may do everything.
const (
	RoleMarketer Role = "marketer"
	RoleOps      Role = "ops"
	RolePrivacy  Role = "privacy"
	RoleAdmin    Role = "admin"
)

// ParseRole returns the role named s, or ErrInvalid.
func ParseRole(s string) (Role, error) {
	switch r := Role(s); r {
	case RoleMarketer, RoleOps, RolePrivacy, RoleAdmin:
		return r, nil
	}
	return "", Errorf(ErrInvalid, "unknown role %q (want marketer, ops, privacy or admin)", s)
}

// User is a named person who holds an API token. The token itself is never stored, only its hash.
type User struct {
	ID        int64     `json:"id" db:"id"`
	Name      string    `json:"name" db:"name"`
	Role      Role      `json:"role" db:"role"`
	CreatedAt time.Time `json:"created_at" db:"created_at"`
	// DisabledAt is when the user was disabled; nil for an active user.
	DisabledAt *time.Time `json:"disabled_at,omitempty" db:"disabled_at"`
	// TokenRotatedAt is when the user's current token was made.
	TokenRotatedAt time.Time `json:"token_rotated_at" db:"token_rotated_at"`
	// TokenExpiresAt is when the user's current token stops opening anything.
	TokenExpiresAt time.Time `json:"token_expires_at" db:"token_expires_at"`
}

// AuditEntry records one privileged action: who did what, to which member (by internal id).
type AuditEntry struct {
	ID       int64       `json:"id" db:"id"`
	At       time.Time   `json:"at" db:"at"`
	Actor    string      `json:"actor" db:"actor"`
	Action   AuditAction `json:"action" db:"action"`
	MemberID *int64      `json:"member_id,omitempty" db:"member_id"`
	// MemberExternalID is the member's external id, kept after an erasure.
	MemberExternalID *string `json:"member_external_id,omitempty" db:"member_external_id"`
	Details          string  `json:"details" db:"details"`
}

// AuditFilter selects audit entries: every field given must match; zero values match all.
type AuditFilter struct {
	Since, Until     time.Time
	MemberExternalID string
	Actor            string
	Action           AuditAction
	// Limit, when positive, keeps only the newest Limit entries that match (still oldest first).
	Limit int
}

// AuditAction names a kind of privileged action in the audit log.
type AuditAction string

// The audited actions. The service layer (campaigns/service) writes each of them, whoever asked.
const (
	AuditCampaignCreate   AuditAction = "campaigns.create"
	AuditCampaignUpdate   AuditAction = "campaigns.update"
	AuditCampaignSchedule AuditAction = "campaigns.schedule"
	AuditCampaignPause    AuditAction = "campaigns.pause"
	AuditCampaignResume   AuditAction = "campaigns.resume"
	AuditCampaignCancel   AuditAction = "campaigns.cancel"
	AuditCampaignPreview  AuditAction = "campaigns.preview"
	AuditCampaignTestSend AuditAction = "campaigns.test-send"
	AuditMembersImport    AuditAction = "members.import"
	AuditMembersSeed      AuditAction = "members.seed"
	AuditMembersExport    AuditAction = "members.export"
	AuditMembersErase     AuditAction = "members.erase"
	AuditMembersReadmit   AuditAction = "members.readmit"
	// AuditMembersUpdate: an import changed a member's fields; the details name each with its old
	// and new value (until the member is erased).
	AuditMembersUpdate     AuditAction = "members.update"
	AuditConsentSet        AuditAction = "consent.set"
	AuditPurchasesImport   AuditAction = "purchases.import"
	AuditSuppressionImport AuditAction = "suppressions.import"
	AuditCouponRedeem      AuditAction = "coupons.redeem"
	AuditUsersAdd          AuditAction = "users.add"
	AuditUsersDisable      AuditAction = "users.disable"
	AuditUsersRotate       AuditAction = "users.rotate"
	// AuditMemberView: a member's record (everything an export holds) was shown in the console.
	AuditMemberView AuditAction = "members.view"
	// AuditMemberCorrect: one field of a member was corrected by hand; the details name the field,
	// never its value (the members.update entry written with it holds the old and new values).
	AuditMemberCorrect AuditAction = "members.correct"
)

// Audit is an entry to write to the audit log with the change it describes, in the same
// transaction: the acting user's name, the action, the member concerned (0: none, or one the store
// resolves from an external id) and details. The store adds what only the change knows (the
// member's internal id, an import's counts) to Details.
type Audit struct {
	Actor    string
	Action   AuditAction
	MemberID int64
	// MemberExternalID is the member's external id; the store looks it up from MemberID when empty.
	MemberExternalID string
	Details          map[string]any
}

// With returns a copy of a whose details also hold the given key and value.
func (a Audit) With(key string, value any) Audit {
	d := make(map[string]any, len(a.Details)+1)
	for k, v := range a.Details {
		d[k] = v
	}
	d[key] = value
	a.Details = d
	return a
}
