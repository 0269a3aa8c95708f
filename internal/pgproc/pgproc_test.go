package pgproc_test

import (
	"database/sql"
	"testing"

	_ "github.com/lib/pq"

	"github.com/jacksmood/dispatch/internal/pgproc"
)

// TestRestartKeepsCommittedRows: a row committed before a clean stop, and one committed before a
// crash (immediate stop) with synchronous_commit on, are there after the restart on the same URL.
func TestRestartKeepsCommittedRows(t *testing.T) {
	t.Parallel()
	c := pgproc.Start(t)
	db, err := sql.Open("postgres", c.URL("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	mustExec := func(q string) {
		t.Helper()
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	mustExec(`CREATE TABLE t (n int)`)
	mustExec(`INSERT INTO t VALUES (1)`)
	c.Stop("fast")
	if err := db.Ping(); err == nil {
		t.Fatal("the stopped cluster still answers")
	}
	c.Start()
	mustExec(`INSERT INTO t VALUES (2)`)
	c.Stop("immediate")
	c.Start()
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM t`).Scan(&n); err != nil || n != 2 {
		t.Fatalf("after the restarts: %d rows, %v; want 2", n, err)
	}
}
