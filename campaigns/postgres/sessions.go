package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jacksmood/dispatch/campaigns"
)

// CreateSession stores a browser session of the user with the given id: only the SHA-256 of id
// (the cookie's value) is kept, with the session's CSRF token; it expires lifetime from now
// whatever its use. Sessions past their expiry or idle for longer than idle are deleted first. It
// returns when the session expires.
func (s *Store) CreateSession(ctx context.Context, id, csrf string, userID int64, idle, lifetime time.Duration) (time.Time, error) {
	if _, err := s.db.ExecContext(ctx, s.q("prune-sessions"), idle.Seconds()); err != nil {
		return time.Time{}, fmt.Errorf("prune sessions: %w", err)
	}
	var expires time.Time
	if err := s.db.GetContext(ctx, &expires, s.q("create-session"), TokenHash(id), userID, csrf, lifetime.Seconds()); err != nil {
		return time.Time{}, fmt.Errorf("create session: %w", err)
	}
	return expires, nil
}

// SessionUser returns the user of the session whose cookie value is id and the session's CSRF
// token, and renews the session's last use. A session that is unknown, past its absolute expiry,
// unused for longer than idle, of a disabled user, or older than its user's current token is
// ErrNotFound.
func (s *Store) SessionUser(ctx context.Context, id string, idle time.Duration) (campaigns.User, string, error) {
	var row struct {
		campaigns.User
		CSRF string `db:"csrf_token"`
	}
	err := s.db.GetContext(ctx, &row, s.q("touch-session"), TokenHash(id), idle.Seconds())
	if errors.Is(err, sql.ErrNoRows) {
		return campaigns.User{}, "", campaigns.Errorf(campaigns.ErrNotFound, "no such session")
	}
	if err != nil {
		return campaigns.User{}, "", fmt.Errorf("look up session: %w", err)
	}
	return row.User, row.CSRF, nil
}

// DeleteSession ends the session whose cookie value is id; an unknown session is not an error.
func (s *Store) DeleteSession(ctx context.Context, id string) error {
	if _, err := s.db.ExecContext(ctx, s.q("delete-session"), TokenHash(id)); err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	return nil
}
