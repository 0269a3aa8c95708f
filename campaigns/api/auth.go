package api

import (
	"context"
	"net/http"
	"slices"
	"strings"

	"github.com/jacksmood/dispatch/campaigns"
)

type userKey struct{}

// UserFrom returns the authenticated user of a request handled behind requireRoles.
func UserFrom(ctx context.Context) (campaigns.User, bool) {
	u, ok := ctx.Value(userKey{}).(campaigns.User)
	return u, ok
}

// requireRoles lets a request through when it carries the token of a named user with one of the
// roles (admin always may), as authenticate does; otherwise 401 or 403.
func (s *Server) requireRoles(next http.Handler, roles ...campaigns.Role) http.Handler {
	return s.authenticate(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, _ := UserFrom(r.Context())
		if user.Role != campaigns.RoleAdmin && !slices.Contains(roles, user.Role) {
			writeJSON(w, http.StatusForbidden, map[string]string{"error": "role " + string(user.Role) + " may not do this"})
			return
		}
		next.ServeHTTP(w, r)
	}))
}

// authenticate lets a request through when it carries the token of a named user, and puts the user
// in its context: `Authorization: Bearer TOKEN`, or HTTP Basic with the user's name and token, for
// browsers. Otherwise 401 with a Basic challenge. What the user may do is the service's to say.
func (s *Server) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token, name := "", ""
		if h := r.Header.Get("Authorization"); strings.HasPrefix(h, "Bearer ") {
			token = strings.TrimSpace(strings.TrimPrefix(h, "Bearer "))
		} else if u, p, ok := r.BasicAuth(); ok {
			name, token = u, p
		}
		if token == "" {
			w.Header().Set("WWW-Authenticate", `Basic realm="dispatch", charset="UTF-8"`)
			writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "authentication required: Authorization: Bearer TOKEN"})
			return
		}
		user, err := s.store.UserByToken(r.Context(), token)
		if err != nil || (name != "" && name != user.Name) {
			w.Header().Set("WWW-Authenticate", `Basic realm="dispatch", charset="UTF-8"`)
			writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "unknown token"})
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), userKey{}, user)))
	})
}
