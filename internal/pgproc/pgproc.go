// Package pgproc runs a PostgreSQL cluster of a test's own, for the tests that take the database
// away in the middle of a run: initdb into a temporary folder, the server on a free loopback port,
// and Stop and Start to restart it on that port. The machine's shared PostgreSQL, which other tests
// use at the same time, is never touched.
//
// The binaries are found in DISPATCH_TEST_PG_BIN, else in the newest /usr/lib/postgresql/*/bin,
// else on PATH (Debian's postgresql package). PostgreSQL refuses to run as root: a test running as
// root runs them as the postgres user. A test that cannot start the cluster fails; it is never
// skipped.
package pgproc

import (
	"context"
	"database/sql"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	_ "github.com/lib/pq" // the driver of Cluster.Ready's check
)

// Cluster is a running (or stopped) private PostgreSQL cluster.
type Cluster struct {
	t    testing.TB
	bin  string // folder of initdb, pg_ctl
	dir  string // owns data/ and server.log
	port int
	// cred runs the binaries as the postgres user when the test runs as root; nil otherwise.
	cred *syscall.Credential
}

// Start creates a cluster in a temporary folder (trust authentication, user postgres, fsync off:
// a crashed server still recovers from its WAL, only a crashed machine would lose data) and starts
// it on a free port of 127.0.0.1, with no Unix socket. It is stopped and removed when the test ends.
func Start(t testing.TB) *Cluster {
	t.Helper()
	bin, err := binDir()
	if err != nil {
		t.Fatalf("pgproc: %v", err)
	}
	c := &Cluster{t: t, bin: bin}
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			t.Fatalf("pgproc: running as root, and no postgres user to run PostgreSQL as: %v", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		c.cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
	}
	// Not t.TempDir: its parent folders are the test user's, closed to the postgres user.
	c.dir, err = os.MkdirTemp("", "pgproc-")
	if err != nil {
		t.Fatalf("pgproc: %v", err)
	}
	t.Cleanup(func() { os.RemoveAll(c.dir) })
	if c.cred != nil {
		if err := os.Chown(c.dir, int(c.cred.Uid), int(c.cred.Gid)); err != nil {
			t.Fatalf("pgproc: %v", err)
		}
	}
	c.port = freePort(t)
	c.run("initdb", "-D", c.data(), "-U", "postgres", "--auth=trust", "--encoding=UTF8", "--locale=C", "--no-sync")
	conf := fmt.Sprintf("\nport = %d\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = ''\nfsync = off\nmax_connections = 200\n", c.port)
	f, err := os.OpenFile(filepath.Join(c.data(), "postgresql.conf"), os.O_APPEND|os.O_WRONLY, 0)
	if err == nil {
		_, err = f.WriteString(conf)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		t.Fatalf("pgproc: postgresql.conf: %v", err)
	}
	t.Cleanup(func() {
		// Stopped already when the test stopped it last; the error is then expected.
		cmd := c.command("pg_ctl", "stop", "-D", c.data(), "-m", "immediate", "-w")
		cmd.Run()
	})
	c.Start()
	return c
}

// URL is the URL of database db on the cluster, as user postgres.
func (c *Cluster) URL(db string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", c.port, db)
}

// Start starts the stopped cluster on its port and returns once it accepts connections. After a
// Stop in immediate mode the server first recovers from its WAL.
func (c *Cluster) Start() {
	c.t.Helper()
	c.run("pg_ctl", "start", "-D", c.data(), "-l", filepath.Join(c.dir, "server.log"), "-w", "-t", "60")
	c.ready()
}

// Stop stops the cluster, its connections cut. mode is pg_ctl's: "fast" (sessions are ended,
// everything committed is written: a clean restart) or "immediate" (the server quits at once,
// as if it had crashed: commits not yet flushed to the WAL, such as those of sessions with
// synchronous_commit off, are lost).
func (c *Cluster) Stop(mode string) {
	c.t.Helper()
	c.run("pg_ctl", "stop", "-D", c.data(), "-m", mode, "-w", "-t", "60")
}

// Log returns the server's log so far (for a failed test's report).
func (c *Cluster) Log() string {
	b, _ := os.ReadFile(filepath.Join(c.dir, "server.log"))
	return string(b)
}

func (c *Cluster) data() string { return filepath.Join(c.dir, "data") }

// ready waits until the server answers a query: pg_ctl -w returns when the postmaster accepts
// connections, which after a crash may still be a moment before recovery ends.
func (c *Cluster) ready() {
	c.t.Helper()
	db, err := sql.Open("postgres", c.URL("postgres"))
	if err != nil {
		c.t.Fatalf("pgproc: %v", err)
	}
	defer db.Close()
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		err := db.PingContext(ctx)
		cancel()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("pgproc: the cluster does not answer: %v\n%s", err, c.Log())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// run runs a PostgreSQL program to its end, failing the test with its output when it fails.
func (c *Cluster) run(name string, args ...string) {
	c.t.Helper()
	if out, err := c.command(name, args...).CombinedOutput(); err != nil {
		c.t.Fatalf("pgproc: %s %s: %v\n%s\n%s", name, strings.Join(args, " "), err, out, c.Log())
	}
}

func (c *Cluster) command(name string, args ...string) *exec.Cmd {
	cmd := exec.Command(filepath.Join(c.bin, name), args...)
	cmd.Dir = c.dir
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	if c.cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: c.cred}
	}
	return cmd
}

// binDir finds the folder of initdb and pg_ctl.
func binDir() (string, error) {
	if d := os.Getenv("DISPATCH_TEST_PG_BIN"); d != "" {
		return d, nil
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return version(dirs[i]) > version(dirs[j]) })
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d, nil
		}
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		return filepath.Dir(p), nil
	}
	return "", fmt.Errorf("no initdb in DISPATCH_TEST_PG_BIN, /usr/lib/postgresql/*/bin or PATH (apt-get install postgresql)")
}

// version is the major version in a /usr/lib/postgresql/N/bin path, 0 when there is none.
func version(dir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(dir)))
	return n
}

// freePort returns a loopback port nobody listens on now.
func freePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("pgproc: %v", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}
