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
}

// AuditEntry records one privileged action: who did what, to which member (by internal id).
type AuditEntry struct {
	ID       int64     `json:"id" db:"id"`
	At       time.Time `json:"at" db:"at"`
	Actor    string    `json:"actor" db:"actor"`
	Action   string    `json:"action" db:"action"`
	MemberID *int64    `json:"member_id,omitempty" db:"member_id"`
	Details  string    `json:"details" db:"details"`
}
