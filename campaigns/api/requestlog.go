package api

import (
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/jacksmood/dispatch/campaigns"
)

// redacted stands in the request log for a secret of a path or query.
const redacted = "…"

// loggedQueryKeys are the query parameters whose values the request log shows: harmless ones (the
// member import's ?source= and ?name=). Other parameters are left out of the line, and ?key= (the
// SMS gateway's hook key) is shown as key=….
var loggedQueryKeys = map[string]bool{"source": true, "name": true}

// requestUser is where authentication notes whom a request is from, for the request log: the
// request log puts one in the request's context before the handler runs and reads it after.
type requestUser struct{ name string }

type requestUserKey struct{}

// noteUser records in ctx's holder, if it has one, that the request is from user.
func noteUser(ctx context.Context, user campaigns.User) {
	if h, ok := ctx.Value(requestUserKey{}).(*requestUser); ok {
		h.name = user.Name
	}
}

// userNotingStore is the server's store, with UserByToken noting the user it finds in the request's
// holder (authenticate resolves every token through it), so that the request log names the user.
type userNotingStore struct{ Store }

func (s userNotingStore) UserByToken(ctx context.Context, token string) (campaigns.User, error) {
	u, err := s.Store.UserByToken(ctx, token)
	if err == nil {
		noteUser(ctx, u)
	}
	return u, err
}

// logRequests logs one line per request once next has answered it: method, path (secrets
// redacted: see redactPath and redactQuery), status, duration_ms, bytes (of the body written) and
// user (the authenticated user's name, when the request was authenticated). The line is at Info,
// at Warn for 401 and 403. Request bodies and headers are never logged.
func (s *Server) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		user := &requestUser{}
		rec := &statusRecorder{ResponseWriter: w}
		next.ServeHTTP(rec, r.WithContext(context.WithValue(r.Context(), requestUserKey{}, user)))
		status := rec.status
		if status == 0 {
			status = http.StatusOK // nothing written: net/http answers 200
		}
		attrs := []slog.Attr{
			slog.String("method", r.Method),
			slog.String("path", redactPath(r.URL.Path)+redactQuery(r.URL.RawQuery)),
			slog.Int("status", status),
			slog.Float64("duration_ms", float64(time.Since(start).Microseconds())/1000),
			slog.Int64("bytes", rec.bytes),
		}
		// A token that names another user than the Bearer token given is refused (401): the
		// request is from nobody known.
		if user.name != "" && status != http.StatusUnauthorized {
			attrs = append(attrs, slog.String("user", user.name))
		}
		level := slog.LevelInfo
		if status == http.StatusUnauthorized || status == http.StatusForbidden {
			level = slog.LevelWarn
		}
		s.log.LogAttrs(r.Context(), level, "request", attrs...)
	})
}

// redactPath returns p cleaned, with the secrets that paths carry replaced by …: the signed token of
// /u/{token} (and anything after it), and the code of /api/coupons/{code}[/...]. Any segment that
// holds an @ is replaced too: it may be an email address put where an id belongs. Member external ids
// (/api/members/{id}) are pseudonymous and kept.
func redactPath(p string) string {
	trailing := strings.HasSuffix(p, "/") && p != "/"
	p = path.Clean("/" + p)
	segs := strings.Split(strings.TrimPrefix(p, "/"), "/")
	switch {
	case len(segs) >= 2 && strings.EqualFold(segs[0], "u"):
		segs, trailing = []string{segs[0], redacted}, false
	case len(segs) >= 3 && strings.EqualFold(segs[0], "api") && strings.EqualFold(segs[1], "coupons"):
		segs[2] = redacted
	}
	for i, seg := range segs {
		if strings.Contains(seg, "@") {
			segs[i] = redacted
		}
	}
	p = "/" + strings.Join(segs, "/")
	if trailing && p != "/" {
		p += "/"
	}
	return p
}

// redactQuery returns the part of raw the request log shows, "" or "?..." in key order: the values
// of loggedQueryKeys, key=… for the SMS hook key, nothing of any other parameter.
func redactQuery(raw string) string {
	if raw == "" {
		return ""
	}
	q, _ := url.ParseQuery(raw) // what parses: a malformed pair is dropped, as any unknown one
	keys := make([]string, 0, len(q))
	for k := range q {
		if loggedQueryKeys[k] || k == "key" {
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		return ""
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		for _, v := range q[k] {
			if b.Len() > 0 {
				b.WriteByte('&')
			}
			b.WriteString(k + "=")
			if k == "key" {
				b.WriteString(redacted)
			} else {
				b.WriteString(url.QueryEscape(v))
			}
		}
	}
	return "?" + b.String()
}

// statusRecorder remembers the status and counts the body bytes of a response.
type statusRecorder struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (r *statusRecorder) WriteHeader(code int) {
	if r.status == 0 && code >= 200 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(p []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	n, err := r.ResponseWriter.Write(p)
	r.bytes += int64(n)
	return n, err
}

// Flush lets streaming handlers (the queue dashboard, metrics) flush through the recorder.
func (r *statusRecorder) Flush() {
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		if r.status == 0 {
			r.status = http.StatusOK
		}
		f.Flush()
	}
}

// Unwrap gives http.ResponseController the underlying writer.
func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }
