package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/jacksmood/dispatch/campaigns"
)

type userKey struct{}

// UserFrom returns the authenticated user of a request handled behind authenticate (a Bearer
// token) or requireSession (a browser session).
func UserFrom(ctx context.Context) (campaigns.User, bool) {
	u, ok := ctx.Value(userKey{}).(campaigns.User)
	return u, ok
}

// bearerChallenge is the WWW-Authenticate of the API's 401 answers (RFC 6750). The API never
// challenges for Basic: a browser would then cache the credentials and send them on its own, which
// is what let any web page call the API with them.
const bearerChallenge = `Bearer realm="dispatch"`

// authenticate lets a request through when it carries `Authorization: Bearer TOKEN` with the token
// of an active named user, and puts the user in its context; otherwise 401 with a JSON error and a
// Bearer challenge. Nothing else authenticates an API call: not HTTP Basic (a browser sends cached
// Basic credentials by itself) and not the console's session cookie (a browser sends it by itself
// too). What the user may do is the service's to say.
func (s *Server) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		scheme, token, _ := strings.Cut(r.Header.Get("Authorization"), " ")
		token = strings.TrimSpace(token)
		if !strings.EqualFold(scheme, "Bearer") || token == "" {
			w.Header().Set("WWW-Authenticate", bearerChallenge)
			writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "authentication required: Authorization: Bearer TOKEN"})
			return
		}
		user, err := s.store.UserByToken(r.Context(), token)
		if err != nil && !errors.Is(err, campaigns.ErrNotFound) {
			s.writeError(w, r, fmt.Errorf("authenticate: %w", err))
			return
		}
		if err != nil {
			w.Header().Set("WWW-Authenticate", bearerChallenge+`, error="invalid_token"`)
			writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "unknown token"})
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), userKey{}, user)))
	})
}
