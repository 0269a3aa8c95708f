// Package pgtest gives each test its own, freshly migrated PostgreSQL schema, so that test packages
// and parallel tests never see each other's rows. The database is DISPATCH_TEST_DATABASE_URL
// (default postgres://postgres@127.0.0.1:5432/dispatch_test?sslmode=disable); it is created if it
// does not exist. A test that cannot reach PostgreSQL fails: it is never skipped.
package pgtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/jacksmood/dispatch/campaigns/postgres"
)

// DefaultURL is the test database used when DISPATCH_TEST_DATABASE_URL is unset.
const DefaultURL = "postgres://postgres@127.0.0.1:5432/dispatch_test?sslmode=disable"

var createOnce sync.Once

// URL returns the test database's URL.
func URL() string {
	if u := os.Getenv("DISPATCH_TEST_DATABASE_URL"); u != "" {
		return u
	}
	return DefaultURL
}

// ensureDatabase creates the test database when it is missing.
func ensureDatabase(t testing.TB, base string) {
	createOnce.Do(func() {
		u, err := url.Parse(base)
		if err != nil {
			t.Fatalf("pgtest: DISPATCH_TEST_DATABASE_URL: %v", err)
		}
		name := strings.TrimPrefix(u.Path, "/")
		admin := *u
		admin.Path = "/postgres"
		db, err := sql.Open("postgres", admin.String())
		if err != nil {
			return
		}
		defer db.Close()
		var exists bool
		if err := db.QueryRow(`SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, name).Scan(&exists); err != nil || exists {
			return
		}
		db.Exec(`CREATE DATABASE ` + pq.QuoteIdentifier(name))
	})
}

// SchemaURL creates a new empty schema and returns a database URL whose connections use it.
// The schema is dropped when the test ends.
func SchemaURL(t testing.TB) string {
	t.Helper()
	base := URL()
	ensureDatabase(t, base)
	b := make([]byte, 6)
	rand.Read(b)
	schema := "test_" + hex.EncodeToString(b)
	admin, err := sql.Open("postgres", base)
	if err != nil {
		t.Fatalf("pgtest: open %s: %v", base, err)
	}
	if _, err := admin.Exec(`CREATE SCHEMA ` + schema); err != nil {
		admin.Close()
		t.Fatalf("pgtest: create schema (is PostgreSQL running at %s?): %v", base, err)
	}
	t.Cleanup(func() {
		admin.Exec(`DROP SCHEMA ` + schema + ` CASCADE`)
		admin.Close()
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// RegisterKey is the key of the keyed hashes that New gives its stores.
var RegisterKey = []byte("pgtest register key, not a secret")

// New returns a store on a new, migrated schema of its own, with RegisterKey adopted. It is closed
// when the test ends.
func New(t testing.TB) *postgres.Store {
	t.Helper()
	ctx := context.Background()
	s, err := postgres.Open(ctx, SchemaURL(t))
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	if _, err := s.Migrate(ctx); err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	s.SetRegisterKey(RegisterKey)
	if err := s.AdoptRegisterKey(ctx); err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	return s
}

// Count returns the result of a SELECT count(*) style query, failing the test on error.
func Count(t testing.TB, db *sqlx.DB, query string, args ...any) int {
	t.Helper()
	var n int
	if err := db.Get(&n, query, args...); err != nil {
		t.Fatalf("pgtest: %s: %v", query, err)
	}
	return n
}

// Must fails the test when err is not nil, naming what was being done.
func Must(t testing.TB, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, fmt.Sprint(err))
	}
}
