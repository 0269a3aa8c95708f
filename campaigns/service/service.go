// Package service holds dispatch's use cases, each implemented once: define, schedule, preview and
// follow a campaign; import, export, correct and erase members; look up and redeem coupons; manage
// users; read the audit log. The command line, the JSON API and the console parse their input, call
// one method here and format its answer; nothing else.
//
// Every method takes the acting user. It checks the user's role (ErrForbidden otherwise) and writes
// the audit entry of the action, in the same transaction as the change where there is one, so that
// the same action leaves the same trace whoever asked and through whichever edge.
package service

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/jacksmood/dispatch/campaigns"
	"github.com/jacksmood/dispatch/worker"
	"github.com/jacksmood/dispatch/worker/compose"
)

// Store is what the use cases need of the store (campaigns/postgres implements it).
type Store interface {
	CreateCampaign(ctx context.Context, spec *campaigns.Spec, a campaigns.Audit) (campaigns.Campaign, error)
	UpdateCampaign(ctx context.Context, id int64, spec *campaigns.Spec, a campaigns.Audit) (campaigns.Campaign, error)
	Campaign(ctx context.Context, id int64) (campaigns.Campaign, error)
	Campaigns(ctx context.Context) ([]campaigns.Campaign, error)
	ScheduleCampaign(ctx context.Context, id int64, at time.Time, a campaigns.Audit) error
	PauseCampaign(ctx context.Context, id int64, a campaigns.Audit) error
	ResumeCampaign(ctx context.Context, id int64, a campaigns.Audit) error
	CancelCampaign(ctx context.Context, id int64, a campaigns.Audit) error
	CampaignStats(ctx context.Context, id, runID int64) (campaigns.Stats, error)
	CampaignRuns(ctx context.Context, id int64) ([]campaigns.RunSummary, error)
	MembersReached(ctx context.Context, id int64) (int64, error)
	MemberReach(ctx context.Context, memberID int64, ch campaigns.Channel) (campaigns.SkipReason, error)

	MemberByExternalID(ctx context.Context, externalID string) (campaigns.Member, error)
	ImportMembers(ctx context.Context, rows campaigns.Rows[campaigns.MemberRow], source campaigns.ConsentSource, a campaigns.Audit) (campaigns.ImportResult, error)
	ImportPurchases(ctx context.Context, rows campaigns.Rows[campaigns.PurchaseRow], a campaigns.Audit) (campaigns.AddResult, error)
	ImportSuppressions(ctx context.Context, rows campaigns.Rows[campaigns.SuppressionRow], reason campaigns.SuppressionReason, a campaigns.Audit) (campaigns.AddResult, error)
	SeedMembers(ctx context.Context, n int, src campaigns.MemberSource, a campaigns.Audit) (campaigns.SeedResult, error)
	ExportMember(ctx context.Context, externalID string, a campaigns.Audit) (*campaigns.MemberExport, error)
	EraseMember(ctx context.Context, externalID string, a campaigns.Audit) (int64, error)
	ReadmitMember(ctx context.Context, externalID string, a campaigns.Audit) error
	RecordConsent(ctx context.Context, externalID string, c campaigns.ConsentChange, a campaigns.Audit) (campaigns.ConsentEvent, error)

	Coupon(ctx context.Context, code string) (campaigns.Coupon, error)
	CouponCodes(ctx context.Context, campaignID int64, limit int) ([]string, error)
	RedeemCoupon(ctx context.Context, code, store, orderRef string, a campaigns.Audit, loc *time.Location) (campaigns.Coupon, error)

	AddUser(ctx context.Context, name string, role campaigns.Role, expires time.Time, a campaigns.Audit) (campaigns.User, string, error)
	UserByName(ctx context.Context, name string) (campaigns.User, error)
	Users(ctx context.Context) ([]campaigns.User, error)
	DisableUser(ctx context.Context, name string, a campaigns.Audit) (campaigns.User, error)
	RotateToken(ctx context.Context, name string, expires time.Time, a campaigns.Audit) (campaigns.User, string, error)
	UserByToken(ctx context.Context, token string) (campaigns.User, error)
	CreateSession(ctx context.Context, id, csrf string, userID int64, idle, lifetime time.Duration) (time.Time, error)
	SessionUser(ctx context.Context, id string, idle time.Duration) (campaigns.User, string, error)
	DeleteSession(ctx context.Context, id string) error
	AuditList(ctx context.Context, f campaigns.AuditFilter) ([]campaigns.AuditEntry, error)
	Audit(ctx context.Context, a campaigns.Audit) error

	AudienceStore
	ResultsStore
}

// Config configures the use cases.
type Config struct {
	// Timezone is DISPATCH_TIMEZONE: schedules given without a zone, and times in messages. Default
	// Europe/Helsinki.
	Timezone *time.Location
	// TestSenders send test messages, one per channel that can be tested; a channel without one
	// answers ErrInvalid to a test send.
	TestSenders map[campaigns.Channel]worker.Sender
	// Now returns the current time. Default time.Now.
	Now func() time.Time
	// TokenLifetime is how long an API token opens anything after it is made or rotated
	// (DISPATCH_TOKEN_LIFETIME). Default 365 days.
	TokenLifetime time.Duration
	// Letters draws the letters of PreviewLetter as the print batches do (worker/print's
	// Renderer). nil: PreviewLetter fails; nothing else needs it.
	Letters LetterRenderer
}

// Service implements the use cases. Create it with New.
type Service struct {
	cfg      Config
	store    Store
	composer *compose.Composer
	log      *slog.Logger
}

// New returns the use cases over store, composing previews and test sends with composer (whose
// renderer also checks a campaign's templates when it is created).
func New(cfg Config, store Store, composer *compose.Composer, log *slog.Logger) (*Service, error) {
	if store == nil || composer == nil {
		return nil, errors.New("service: a store and a composer are required")
	}
	if cfg.Timezone == nil {
		loc, err := time.LoadLocation("Europe/Helsinki")
		if err != nil {
			return nil, err
		}
		cfg.Timezone = loc
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.TokenLifetime <= 0 {
		cfg.TokenLifetime = 365 * 24 * time.Hour
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Service{cfg: cfg, store: store, composer: composer, log: log}, nil
}

// allow returns ErrForbidden unless the actor holds one of the roles; admins may do everything.
func allow(actor campaigns.User, what string, roles ...campaigns.Role) error {
	if actor.Name == "" {
		return campaigns.Errorf(campaigns.ErrForbidden, "%s: no acting user", what)
	}
	if actor.Role == campaigns.RoleAdmin {
		return nil
	}
	for _, r := range roles {
		if actor.Role == r {
			return nil
		}
	}
	return campaigns.Errorf(campaigns.ErrForbidden, "%s: user %s (%s) may not do this", what, actor.Name, actor.Role)
}

// checkText refuses a value that reached a use case from outside (a path, a command line) when it
// holds a control character (NUL), is not UTF-8 or is longer than its field takes: ErrInvalid
// naming the field, before anything reaches the store.
func checkText(field, value string) error {
	if err := campaigns.CheckField(field, value); err != nil {
		return campaigns.Invalid(field, err.Error())
	}
	return nil
}

// entry starts the audit entry of an action by actor.
func entry(actor campaigns.User, action campaigns.AuditAction) campaigns.Audit {
	return campaigns.Audit{Actor: actor.Name, Action: action}
}

// Authenticate returns the user holding the API token, or ErrNotFound.
func (s *Service) Authenticate(ctx context.Context, token string) (campaigns.User, error) {
	if token == "" {
		return campaigns.User{}, campaigns.Errorf(campaigns.ErrNotFound, "unknown token")
	}
	return s.store.UserByToken(ctx, token)
}

// User returns the named user, or ErrNotFound: the command line's acting user (--as). A disabled
// user is ErrForbidden.
func (s *Service) User(ctx context.Context, name string) (campaigns.User, error) {
	u, err := s.store.UserByName(ctx, name)
	if err == nil && u.DisabledAt != nil {
		return campaigns.User{}, campaigns.Errorf(campaigns.ErrForbidden, "user %s was disabled on %s", name, u.DisabledAt.In(s.cfg.Timezone).Format("2006-01-02 15:04 MST"))
	}
	return u, err
}

// Users lists every user, active and disabled, by name. Admins.
func (s *Service) Users(ctx context.Context, actor campaigns.User) ([]campaigns.User, error) {
	if err := allow(actor, "list users"); err != nil {
		return nil, err
	}
	us, err := s.store.Users(ctx)
	if us == nil {
		us = []campaigns.User{}
	}
	return us, err
}

// DisableUser disables a user for good: their token stops working at once, and they can no longer
// act on the command line. Admins; a user cannot disable themselves (ErrConflict), so that the last
// admin is not locked out by mistake.
func (s *Service) DisableUser(ctx context.Context, actor campaigns.User, name string) (campaigns.User, error) {
	if err := allow(actor, "disable a user"); err != nil {
		return campaigns.User{}, err
	}
	if name == actor.Name {
		return campaigns.User{}, campaigns.Errorf(campaigns.ErrConflict, "user %s cannot disable themselves", name)
	}
	return s.store.DisableUser(ctx, name, entry(actor, campaigns.AuditUsersDisable).With("user", name))
}

// RotateToken gives a user a new API token, shown this once; the old one stops working at once.
// Admins, and every user for their own token.
func (s *Service) RotateToken(ctx context.Context, actor campaigns.User, name string) (campaigns.User, string, error) {
	if name != actor.Name {
		if err := allow(actor, "rotate another user's token"); err != nil {
			return campaigns.User{}, "", err
		}
	}
	expires := s.cfg.Now().Add(s.cfg.TokenLifetime)
	return s.store.RotateToken(ctx, name, expires, entry(actor, campaigns.AuditUsersRotate).With("user", name).With("token_expires_at", expires.UTC()))
}

// AddUser adds a named user with a role and returns the user's API token, shown this once. Admins
// only; a name in use is ErrConflict.
func (s *Service) AddUser(ctx context.Context, actor campaigns.User, name string, role campaigns.Role) (campaigns.User, string, error) {
	if err := allow(actor, "add a user"); err != nil {
		return campaigns.User{}, "", err
	}
	if name == "" {
		return campaigns.User{}, "", campaigns.Invalid("name", "is empty")
	}
	if err := checkText("name", name); err != nil {
		return campaigns.User{}, "", err
	}
	if _, err := campaigns.ParseRole(string(role)); err != nil {
		return campaigns.User{}, "", err
	}
	expires := s.cfg.Now().Add(s.cfg.TokenLifetime)
	return s.store.AddUser(ctx, name, role, expires, entry(actor, campaigns.AuditUsersAdd).With("user", name).With("role", role).With("token_expires_at", expires.UTC()))
}

// AuditLog returns the audit entries that f selects, oldest first: who did what, when, about which
// member. Admins and privacy officers only.
func (s *Service) AuditLog(ctx context.Context, actor campaigns.User, f campaigns.AuditFilter) ([]campaigns.AuditEntry, error) {
	if err := allow(actor, "read the audit log", campaigns.RolePrivacy); err != nil {
		return nil, err
	}
	es, err := s.store.AuditList(ctx, f)
	if es == nil {
		es = []campaigns.AuditEntry{}
	}
	return es, err
}

// Timezone is DISPATCH_TIMEZONE, where the edges show times.
func (s *Service) Timezone() *time.Location { return s.cfg.Timezone }
