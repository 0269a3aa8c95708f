// Package api is dispatch's HTTP edge: the marketers' JSON API, the members' unsubscribe pages, the
// SMS gateway's hooks, health checks, and the mount points of the queue dashboard and metrics. Error
// kinds of the domain become HTTP statuses here and only here.
package api

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/jacksmood/dispatch/campaigns"
	"github.com/jacksmood/dispatch/campaigns/service"
)

// Store is what the HTTP edge needs of the store (campaigns/postgres implements it).
type Store interface {
	Ping(ctx context.Context) error
	MemberByID(ctx context.Context, id int64) (campaigns.Member, error)
	CurrentConsent(ctx context.Context, memberID int64, ch campaigns.Channel) (campaigns.ConsentEvent, bool, error)
	RecordUnsubscribe(ctx context.Context, memberID int64, ch campaigns.Channel, source campaigns.ConsentSource) (recorded bool, err error)
	UserByToken(ctx context.Context, token string) (campaigns.User, error)
}

// Config configures the server.
type Config struct {
	// Secret verifies unsubscribe tokens (DISPATCH_SECRET). Required.
	Secret []byte
	// PreviousSecrets are secrets Secret replaced (DISPATCH_SECRET_PREVIOUS): links they signed,
	// already in members' mailboxes, keep working while they are listed.
	PreviousSecrets [][]byte
	// Ops is mounted at /ops/queues/ (the asynqmon dashboard) behind the ops and admin roles; nil: 404.
	Ops http.Handler
	// Metrics is mounted at /metrics; nil: 404.
	Metrics http.Handler
	// Ready reports whether the queue's Redis answers, for /readyz; nil: not checked.
	Ready func(ctx context.Context) error
	// Service serves the JSON API of marketers and privacy officers under /api/; nil: not served.
	Service *service.Service
	// Hooks serves the SMS gateway's callbacks under /hooks/sms/; nil: not served.
	Hooks HookStore
}

// Server is the HTTP handler of `dispatch serve`.
type Server struct {
	cfg     Config
	store   Store
	log     *slog.Logger
	mux     *http.ServeMux
	handler http.Handler // mux behind the request log
}

// New returns the server, which logs one line per request to log (see logRequests). It fails if
// the config lacks the secret.
func New(cfg Config, store Store, log *slog.Logger) (*Server, error) {
	if len(cfg.Secret) < 16 {
		return nil, errors.New("api: Secret must be at least 16 bytes")
	}
	s := &Server{cfg: cfg, store: userNotingStore{store}, log: log, mux: http.NewServeMux()}
	s.handler = s.logRequests(s.mux)
	s.routes()
	if cfg.Service != nil {
		s.marketingRoutes(cfg.Service)
		s.sessionRoutes(cfg.Service)
		s.consoleRoutes(cfg.Service)
	}
	if cfg.Hooks != nil {
		s.hookRoutes(cfg.Hooks)
	}
	return s, nil
}

// ServeHTTP makes Server an http.Handler that serves every route: what Public and Staff serve apart.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// Public is the handler of the public listener (DISPATCH_PUBLIC_ADDR), which members' mail clients
// and the SMS gateway reach: the unsubscribe pages, the SMS hooks and /healthz. Nothing else answers
// there: no API, no dashboard, no metrics.
func (s *Server) Public() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !isPublicPath(r.URL.Path) && r.URL.Path != "/healthz" {
			http.NotFound(w, r)
			return
		}
		s.handler.ServeHTTP(w, r)
	})
}

// Staff is the handler of the staff listener (DISPATCH_HTTP_ADDR), for marketers, privacy officers
// and ops: the API, the dashboard, /metrics, /healthz and /readyz. The public pages do not answer
// there, so that the staff listener can stay on an internal network.
func (s *Server) Staff() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if isPublicPath(r.URL.Path) {
			http.NotFound(w, r)
			return
		}
		s.handler.ServeHTTP(w, r)
	})
}

// isPublicPath reports whether a path belongs to the public listener.
func isPublicPath(p string) bool {
	return strings.HasPrefix(p, "/u/") || strings.HasPrefix(p, "/hooks/")
}

func (s *Server) routes() {
	s.mux.HandleFunc("GET /u/{token}", s.unsubscribePage)
	s.mux.HandleFunc("POST /u/{token}", s.unsubscribe)
	s.mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	s.mux.HandleFunc("GET /readyz", s.ready)
	s.mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "no such endpoint: " + r.Method + " " + r.URL.Path})
	})
	if s.cfg.Metrics != nil {
		s.mux.Handle("GET /metrics", s.cfg.Metrics)
	}
	if s.cfg.Ops != nil {
		// asynqmon can delete and retry tasks: ops and admin only, signed in (session.go).
		s.mux.Handle("/ops/queues/", s.requireSessionSameOrigin(s.cfg.Ops, campaigns.RoleOps))
		s.mux.Handle("/ops/queues", http.RedirectHandler("/ops/queues/", http.StatusMovedPermanently))
	}
}

func (s *Server) ready(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	checks := map[string]string{"postgres": "ok", "redis": "ok"}
	status := http.StatusOK
	if err := s.store.Ping(ctx); err != nil {
		checks["postgres"], status = "unreachable", http.StatusServiceUnavailable
	}
	if s.cfg.Ready != nil {
		if err := s.cfg.Ready(ctx); err != nil {
			checks["redis"], status = "unreachable", http.StatusServiceUnavailable
		}
	}
	writeJSON(w, status, checks)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// writeError answers {"error": "..."} with the status of the error's kind; an error of no known kind
// is logged and answered 500 without its text.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	status := http.StatusInternalServerError
	switch {
	case errors.Is(err, campaigns.ErrInvalid):
		status = http.StatusUnprocessableEntity
	case errors.Is(err, campaigns.ErrNotFound):
		status = http.StatusNotFound
	case errors.Is(err, campaigns.ErrConflict):
		status = http.StatusConflict
	case errors.Is(err, campaigns.ErrForbidden):
		status = http.StatusForbidden
	}
	msg := err.Error()
	if status == http.StatusInternalServerError {
		s.log.Error("request failed", slog.String("method", r.Method), slog.String("path", redactPath(r.URL.Path)), "err", err)
		msg = "internal error"
	}
	writeJSON(w, status, map[string]string{"error": msg})
}
