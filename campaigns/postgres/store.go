// Package postgres is dispatch's store: the member register, campaigns, the delivery ledger and the
// coupon ledger in PostgreSQL, through sqlx and lib/pq. Its SQL lives in embedded files
// (queries/*.sql, one `-- name:` block a query; migrations/*.sql, numbered).
package postgres

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jmoiron/sqlx"
	_ "github.com/lib/pq" // the PostgreSQL driver
)

//go:embed queries/*.sql
var queryFiles embed.FS

// MaxConns is the most connections one process opens to PostgreSQL.
const MaxConns = 32

// Store is the PostgreSQL store. It is safe for concurrent use.
type Store struct {
	db       *sqlx.DB
	queries  map[string]string
	prepared sync.Map // query name -> *sqlx.Stmt
	// key is the adopted register key; pendingKey the one SetRegisterKey gave, adopted on first use.
	key        atomic.Pointer[registerKey]
	keyMu      sync.Mutex
	pendingKey []byte
}

// Open connects to the database at url (a postgres:// URL or a lib/pq key=value string) and checks
// that it answers. It does not migrate; call Migrate for that.
func Open(ctx context.Context, url string) (*Store, error) {
	db, err := sqlx.Open("postgres", url)
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	// database/sql keeps only two idle connections by default: a worker with twenty batches in
	// flight would open and close a PostgreSQL backend for almost every statement.
	db.SetMaxOpenConns(MaxConns)
	db.SetMaxIdleConns(MaxConns)
	db.SetConnMaxIdleTime(5 * time.Minute)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("connect to database: %w", err)
	}
	return New(db)
}

// New wraps an open database handle. It fails only if the embedded queries cannot be read.
func New(db *sqlx.DB) (*Store, error) {
	q, err := loadQueries(queryFiles)
	if err != nil {
		return nil, err
	}
	return &Store{db: db, queries: q}, nil
}

// DB returns the underlying handle, for health checks and tests.
func (s *Store) DB() *sqlx.DB { return s.db }

// Close closes the prepared statements and the database handle.
func (s *Store) Close() error {
	s.prepared.Range(func(_, st any) bool {
		st.(*sqlx.Stmt).Close()
		return true
	})
	return s.db.Close()
}

// Ping reports whether the database answers.
func (s *Store) Ping(ctx context.Context) error { return s.db.PingContext(ctx) }

// q returns the named query. A missing name is a programming error caught by the tests, so it panics.
func (s *Store) q(name string) string {
	sql, ok := s.queries[name]
	if !ok {
		panic("postgres: no query named " + name)
	}
	return sql
}

// stmt returns the named query prepared once for the store: the statements a worker runs for every
// chunk of messages skip PostgreSQL's planning after their first executions (database/sql prepares
// them again on each connection as needed).
func (s *Store) stmt(ctx context.Context, name string) (*sqlx.Stmt, error) {
	if st, ok := s.prepared.Load(name); ok {
		return st.(*sqlx.Stmt), nil
	}
	st, err := s.db.PreparexContext(ctx, s.q(name))
	if err != nil {
		return nil, fmt.Errorf("prepare %s: %w", name, err)
	}
	if prev, loaded := s.prepared.LoadOrStore(name, st); loaded {
		st.Close()
		return prev.(*sqlx.Stmt), nil
	}
	return st, nil
}

// loadQueries reads every `-- name: NAME` block of the embedded .sql files.
func loadQueries(fsys fs.FS) (map[string]string, error) {
	out := make(map[string]string)
	files, err := fs.Glob(fsys, "queries/*.sql")
	if err != nil {
		return nil, err
	}
	for _, f := range files {
		b, err := fs.ReadFile(fsys, f)
		if err != nil {
			return nil, err
		}
		var name string
		var body strings.Builder
		flush := func() error {
			if name == "" {
				return nil
			}
			if _, dup := out[name]; dup {
				return fmt.Errorf("%s: query %q defined twice", f, name)
			}
			out[name] = strings.TrimSpace(body.String())
			body.Reset()
			return nil
		}
		for _, line := range strings.Split(string(b), "\n") {
			if n, ok := strings.CutPrefix(strings.TrimSpace(line), "-- name:"); ok {
				if err := flush(); err != nil {
					return nil, err
				}
				name = strings.TrimSpace(n)
				continue
			}
			if name != "" {
				body.WriteString(line)
				body.WriteByte('\n')
			}
		}
		if err := flush(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// inTx runs fn in a transaction, committing when fn returns nil and rolling back otherwise.
func (s *Store) inTx(ctx context.Context, fn func(tx *sqlx.Tx) error) error {
	tx, err := s.db.BeginTxx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin transaction: %w", err)
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}
