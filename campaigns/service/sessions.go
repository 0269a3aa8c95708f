package service

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"time"

	"github.com/jacksmood/dispatch/campaigns"
)

// Limits of a browser session (the staff console and the queue dashboard). A session ends when it
// has not been used for SessionIdle, and SessionLifetime after sign-in however much it is used; it
// also ends when its user is disabled or their token is rotated, and at sign-out.
const (
	// SessionIdle is how long a session lasts unused: 30 minutes. Every request renews it.
	SessionIdle = 30 * time.Minute
	// SessionLifetime is how long a session lasts at most: 12 hours, a working day.
	SessionLifetime = 12 * time.Hour
)

// Session is a signed-in browser.
type Session struct {
	// ID is the session's secret, the cookie's value: 32 random bytes, base64url. Only its SHA-256
	// is stored.
	ID string
	// CSRF is the token that each state-changing request of the session must carry.
	CSRF string
	// User is the signed-in user.
	User campaigns.User
	// ExpiresAt is the session's absolute expiry (zero when the session was looked up rather than
	// created).
	ExpiresAt time.Time
}

// Login signs a user in with their name and API token and returns a new session. The token must be
// an active user's and the name that user's: otherwise ErrNotFound, whose message says which
// (for the security log; never show it to the person signing in, and it never holds the token).
func (s *Service) Login(ctx context.Context, name, token string) (Session, error) {
	if name == "" || token == "" {
		return Session{}, campaigns.Errorf(campaigns.ErrNotFound, "name or token missing")
	}
	u, err := s.Authenticate(ctx, token)
	if err != nil {
		return Session{}, err
	}
	if u.Name != name {
		return Session{}, campaigns.Errorf(campaigns.ErrNotFound, "the token is another user's")
	}
	id, err := randomToken()
	if err != nil {
		return Session{}, err
	}
	csrf, err := randomToken()
	if err != nil {
		return Session{}, err
	}
	expires, err := s.store.CreateSession(ctx, id, csrf, u.ID, SessionIdle, SessionLifetime)
	if err != nil {
		return Session{}, fmt.Errorf("sign in %s: %w", u.Name, err)
	}
	return Session{ID: id, CSRF: csrf, User: u, ExpiresAt: expires}, nil
}

// Session returns the session whose secret is id, and renews its last use; an unknown, expired or
// idle session, or one of a disabled user, is ErrNotFound.
func (s *Service) Session(ctx context.Context, id string) (Session, error) {
	if id == "" {
		return Session{}, campaigns.Errorf(campaigns.ErrNotFound, "no such session")
	}
	u, csrf, err := s.store.SessionUser(ctx, id, SessionIdle)
	if err != nil {
		return Session{}, err
	}
	return Session{ID: id, CSRF: csrf, User: u}, nil
}

// Logout ends the session whose secret is id. Ending an unknown session is not an error.
func (s *Service) Logout(ctx context.Context, id string) error {
	if id == "" {
		return nil
	}
	return s.store.DeleteSession(ctx, id)
}

// randomToken returns 32 random bytes, base64url without padding.
func randomToken() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("draw a session secret: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}
