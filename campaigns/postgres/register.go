package postgres

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/jacksmood/dispatch/campaigns"
)

// queryer is what both *sqlx.DB and *sqlx.Tx offer.
type queryer interface {
	sqlx.ExtContext
	GetContext(ctx context.Context, dest any, query string, args ...any) error
	SelectContext(ctx context.Context, dest any, query string, args ...any) error
}

// audit writes one audit entry in the caller's transaction. MemberID 0 is an action on no member.
func (s *Store) audit(ctx context.Context, q queryer, a campaigns.Audit) error {
	if a.Actor == "" || a.Action == "" {
		return fmt.Errorf("audit %q: an entry needs an actor and an action", a.Action)
	}
	details := a.Details
	if details == nil {
		details = map[string]any{}
	}
	b, err := json.Marshal(details)
	if err != nil {
		return fmt.Errorf("audit %s: %w", a.Action, err)
	}
	var mid *int64
	if a.MemberID != 0 {
		mid = &a.MemberID
	}
	var ext *string
	if a.MemberExternalID != "" {
		ext = &a.MemberExternalID
	}
	if _, err := q.ExecContext(ctx, s.q("insert-audit"), a.Actor, a.Action, mid, b, ext); err != nil {
		return fmt.Errorf("audit %s: %w", a.Action, err)
	}
	return nil
}

// AuditList returns the audit entries that f selects, oldest first.
func (s *Store) AuditList(ctx context.Context, f campaigns.AuditFilter) ([]campaigns.AuditEntry, error) {
	var out []campaigns.AuditEntry
	var until *time.Time
	if !f.Until.IsZero() {
		until = &f.Until
	}
	null := func(v string) *string {
		if v == "" {
			return nil
		}
		return &v
	}
	var limit *int
	if f.Limit > 0 {
		limit = &f.Limit
	}
	if err := s.db.SelectContext(ctx, &out, s.q("list-audit"), f.Since, until, null(f.MemberExternalID), null(f.Actor), null(string(f.Action)), limit); err != nil {
		return nil, fmt.Errorf("list audit log: %w", err)
	}
	slices.Reverse(out)
	return out, nil
}

// Audit records an action that changed nothing in the store (a preview that showed a member's data,
// a test send).
func (s *Store) Audit(ctx context.Context, a campaigns.Audit) error {
	return s.audit(ctx, s.db, a)
}

// AddUser creates a named user with a role and returns a new API token. Only the token's SHA-256
// hash is stored: the token is shown this once. A name in use is ErrConflict.
func (s *Store) AddUser(ctx context.Context, name string, role campaigns.Role, expires time.Time, a campaigns.Audit) (campaigns.User, string, error) {
	if name == "" {
		return campaigns.User{}, "", campaigns.Invalid("name", "is empty")
	}
	token, err := newToken()
	if err != nil {
		return campaigns.User{}, "", err
	}
	var u campaigns.User
	err = s.inTx(ctx, func(tx *sqlx.Tx) error {
		if err := tx.GetContext(ctx, &u, s.q("insert-user"), name, role, TokenHash(token), expires); err != nil {
			var pqErr *pq.Error
			if errors.As(err, &pqErr) && pqErr.Code == "23505" {
				return campaigns.Errorf(campaigns.ErrConflict, "user %q already exists", name)
			}
			return fmt.Errorf("add user: %w", err)
		}
		return s.audit(ctx, tx, a)
	})
	return u, token, err
}

// newToken draws a fresh API token.
func newToken() (string, error) {
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return "", fmt.Errorf("make token: %w", err)
	}
	return "dsp_" + base64.RawURLEncoding.EncodeToString(raw), nil
}

// Users returns every user, active and disabled, by name.
func (s *Store) Users(ctx context.Context) ([]campaigns.User, error) {
	var out []campaigns.User
	if err := s.db.SelectContext(ctx, &out, s.q("list-users")); err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	return out, nil
}

// DisableUser disables the named user for good (their token stops working at once) and writes the
// audit entry a in the same transaction. An unknown or already disabled user is ErrNotFound.
func (s *Store) DisableUser(ctx context.Context, name string, a campaigns.Audit) (campaigns.User, error) {
	var u campaigns.User
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		err := tx.GetContext(ctx, &u, s.q("disable-user"), name)
		if errors.Is(err, sql.ErrNoRows) {
			return campaigns.Errorf(campaigns.ErrNotFound, "no active user named %q", name)
		}
		if err != nil {
			return fmt.Errorf("disable user: %w", err)
		}
		return s.audit(ctx, tx, a)
	})
	return u, err
}

// RotateToken gives the named active user a new token, shown this once; the old one stops working
// at once. The audit entry a is written in the same transaction. An unknown or disabled user is
// ErrNotFound.
func (s *Store) RotateToken(ctx context.Context, name string, expires time.Time, a campaigns.Audit) (campaigns.User, string, error) {
	token, err := newToken()
	if err != nil {
		return campaigns.User{}, "", err
	}
	var u campaigns.User
	err = s.inTx(ctx, func(tx *sqlx.Tx) error {
		err := tx.GetContext(ctx, &u, s.q("rotate-token"), name, TokenHash(token), expires)
		if errors.Is(err, sql.ErrNoRows) {
			return campaigns.Errorf(campaigns.ErrNotFound, "no active user named %q", name)
		}
		if err != nil {
			return fmt.Errorf("rotate token: %w", err)
		}
		return s.audit(ctx, tx, a)
	})
	return u, token, err
}

// TokenHash is how API tokens are stored and looked up.
func TokenHash(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

// UserByName returns the named user, or ErrNotFound.
func (s *Store) UserByName(ctx context.Context, name string) (campaigns.User, error) {
	var u campaigns.User
	err := s.db.GetContext(ctx, &u, s.q("user-by-name"), name)
	if errors.Is(err, sql.ErrNoRows) {
		return u, campaigns.Errorf(campaigns.ErrNotFound, "no user named %q (add one with: dispatch users add NAME --role R)", name)
	}
	return u, err
}

// UserByToken returns the user holding token, or ErrNotFound.
func (s *Store) UserByToken(ctx context.Context, token string) (campaigns.User, error) {
	var u campaigns.User
	err := s.db.GetContext(ctx, &u, s.q("user-by-token"), TokenHash(token))
	if errors.Is(err, sql.ErrNoRows) {
		return u, campaigns.Errorf(campaigns.ErrNotFound, "unknown token")
	}
	return u, err
}

// memberID resolves an external id to the internal one, or ErrNotFound.
func (s *Store) memberID(ctx context.Context, q queryer, externalID string) (int64, error) {
	var id int64
	err := q.GetContext(ctx, &id, `SELECT id FROM members WHERE external_id = $1`, externalID)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, campaigns.Errorf(campaigns.ErrNotFound, "no member with external id %q", externalID)
	}
	return id, err
}

// MemberByExternalID returns the member, or ErrNotFound.
func (s *Store) MemberByExternalID(ctx context.Context, externalID string) (campaigns.Member, error) {
	var m campaigns.Member
	err := s.db.GetContext(ctx, &m, s.q("member-by-external-id"), externalID)
	if errors.Is(err, sql.ErrNoRows) {
		return m, campaigns.Errorf(campaigns.ErrNotFound, "no member with external id %q", externalID)
	}
	return m, err
}

// MemberByID returns the member with internal id, or ErrNotFound.
func (s *Store) MemberByID(ctx context.Context, id int64) (campaigns.Member, error) {
	var m campaigns.Member
	err := s.db.GetContext(ctx, &m, s.q("member-by-id"), id)
	if errors.Is(err, sql.ErrNoRows) {
		return m, campaigns.Errorf(campaigns.ErrNotFound, "no member with id %d", id)
	}
	return m, err
}

// RecordConsent appends a consent event for the member and writes the audit entry (with the member
// and the event's id), in one transaction. It returns the event, or ErrNotFound for an unknown member.
func (s *Store) RecordConsent(ctx context.Context, externalID string, c campaigns.ConsentChange, a campaigns.Audit) (campaigns.ConsentEvent, error) {
	var ev campaigns.ConsentEvent
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		id, err := s.memberID(ctx, tx, externalID)
		if err != nil {
			return err
		}
		// The entry names the state before the change too: "who changed what" has both sides.
		var previous campaigns.ConsentStatus = "none"
		var before campaigns.ConsentEvent
		if err := tx.GetContext(ctx, &before, s.q("current-consent"), id, c.Channel); err == nil {
			previous = before.Status
		} else if !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("record consent for member %d: %w", id, err)
		}
		ev, err = s.recordConsent(ctx, tx, id, c, a.Actor)
		if err != nil {
			return err
		}
		a.MemberID = id
		return s.audit(ctx, tx, a.With("event_id", ev.ID).With("previous", previous))
	})
	return ev, err
}

func (s *Store) recordConsent(ctx context.Context, q queryer, memberID int64, c campaigns.ConsentChange, actor string) (campaigns.ConsentEvent, error) {
	var ev campaigns.ConsentEvent
	err := q.GetContext(ctx, &ev, s.q("record-consent"), memberID, c.Channel, c.Status, c.Source, c.WordingVersion, actor)
	if err != nil {
		var pqErr *pq.Error
		if errors.As(err, &pqErr) && pqErr.Code == "23503" {
			return ev, campaigns.Errorf(campaigns.ErrNotFound, "no member with id %d", memberID)
		}
		return ev, fmt.Errorf("record consent for member %d: %w", memberID, err)
	}
	return ev, nil
}

// CurrentConsent returns the latest consent event of the member on the channel; ok is false when the
// member has none (no consent).
func (s *Store) CurrentConsent(ctx context.Context, memberID int64, ch campaigns.Channel) (ev campaigns.ConsentEvent, ok bool, err error) {
	err = s.db.GetContext(ctx, &ev, s.q("current-consent"), memberID, ch)
	if errors.Is(err, sql.ErrNoRows) {
		return ev, false, nil
	}
	if err != nil {
		return ev, false, fmt.Errorf("current consent of member %d on %s: %w", memberID, ch, err)
	}
	return ev, true, nil
}

// ConsentHistory returns every consent event of the member, oldest first.
func (s *Store) ConsentHistory(ctx context.Context, memberID int64) ([]campaigns.ConsentEvent, error) {
	var out []campaigns.ConsentEvent
	err := s.db.SelectContext(ctx, &out, s.q("member-consent-history"), memberID)
	return out, err
}

// ImportSuppressions adds the rows of a suppression file to the suppression list with the reason,
// in one transaction, and writes an audit entry. It returns how many rows were read, the rejected
// rows, and an error when the file cannot be trusted (then nothing is added).
func (s *Store) ImportSuppressions(ctx context.Context, read campaigns.Rows[campaigns.SuppressionRow], reason campaigns.SuppressionReason, a campaigns.Audit) (res campaigns.AddResult, err error) {
	key, err := s.registerKey(ctx)
	if err != nil {
		return res, err
	}
	err = s.inTx(ctx, func(tx *sqlx.Tx) error {
		if _, err := tx.ExecContext(ctx, s.q("suppressions-create-staging")); err != nil {
			return err
		}
		stmt, err := tx.PrepareContext(ctx, s.q("suppressions-copy"))
		if err != nil {
			return err
		}
		rejected, err := read(func(r campaigns.SuppressionRow) error {
			_, err := stmt.ExecContext(ctx, r.Channel, r.Value)
			return err
		})
		if err != nil {
			stmt.Close()
			return err
		}
		if _, err := stmt.ExecContext(ctx); err != nil {
			return fmt.Errorf("copy suppressions: %w", err)
		}
		stmt.Close()
		r, err := tx.ExecContext(ctx, s.q("suppressions-merge"), reason, key.ipad, key.opad)
		if err != nil {
			return fmt.Errorf("merge suppressions: %w", err)
		}
		n, _ := r.RowsAffected()
		res.Added, res.Rejections = int(n), rejected
		return s.audit(ctx, tx, a.With("added", res.Added).With("rejected", campaigns.RejectedRows(rejected)))
	})
	return res, err
}

// RecordUnsubscribe records the member's own withdrawal on the channel (an unsubscribe link, an SMS
// STOP) unless the channel is withdrawn already. recorded says whether an event was written. An
// unknown (erased) member records nothing and is not an error.
func (s *Store) RecordUnsubscribe(ctx context.Context, memberID int64, ch campaigns.Channel, source campaigns.ConsentSource) (bool, error) {
	res, err := s.db.ExecContext(ctx, s.q("record-unsubscribe"), memberID, ch, source)
	if err != nil {
		return false, fmt.Errorf("unsubscribe member %d from %s: %w", memberID, ch, err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}
