package redistest

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// Server is a redis-server of a test's own, without persistence (no RDB snapshots, no AOF), on a
// free loopback port: a test may kill it and start it again on the same port, empty, as a Redis
// restarted without persistence comes back. The shared test Redis, which other tests use at the
// same time, is never touched. It needs redis-server on PATH (apt-get install redis-server); a test
// without it fails.
type Server struct {
	t    testing.TB
	port int
	args []string // redis-server's arguments besides the port
	mu   sync.Mutex
	cmd  *exec.Cmd
}

// StartServer starts a private redis-server; it is killed when the test ends.
func StartServer(t testing.TB) *Server {
	t.Helper()
	return start(t, "--save", "", "--appendonly", "no")
}

// StartReplica starts a private redis-server that replicates master (without persistence either).
func StartReplica(t testing.TB, master *Server) *Server {
	t.Helper()
	return start(t, "--save", "", "--appendonly", "no", "--replicaof", "127.0.0.1", fmt.Sprint(master.port))
}

// StartSentinel starts a private Redis Sentinel that monitors master under the name name, alone (a
// quorum of one): it declares the master down after 300 ms without an answer and promotes one of
// its replicas. Its URL is that of the sentinel itself.
func StartSentinel(t testing.TB, name string, master *Server) *Server {
	t.Helper()
	conf := filepath.Join(t.TempDir(), "sentinel.conf") // the sentinel rewrites it: its own
	text := fmt.Sprintf("sentinel monitor %[1]s 127.0.0.1 %[2]d 1\nsentinel down-after-milliseconds %[1]s 300\n"+
		"sentinel failover-timeout %[1]s 3000\nsentinel parallel-syncs %[1]s 1\n", name, master.port)
	if err := os.WriteFile(conf, []byte(text), 0o600); err != nil {
		t.Fatalf("redistest: %v", err)
	}
	return start(t, conf, "--sentinel")
}

// start starts a private redis-server with args on a free loopback port.
func start(t testing.TB, args ...string) *Server {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("redistest: %v", err)
	}
	s := &Server{t: t, port: ln.Addr().(*net.TCPAddr).Port, args: args}
	ln.Close()
	t.Cleanup(s.Kill)
	s.Start()
	return s
}

// URL is the server's redis://127.0.0.1:PORT/0.
func (s *Server) URL() string { return fmt.Sprintf("redis://127.0.0.1:%d/0", s.port) }

// Addr is the server's 127.0.0.1:PORT.
func (s *Server) Addr() string { return fmt.Sprintf("127.0.0.1:%d", s.port) }

// Start starts the (killed) server again on its port, empty, and returns once it answers PING.
func (s *Server) Start() {
	s.t.Helper()
	args := s.args
	if len(args) > 0 && filepath.IsAbs(args[0]) {
		// A configuration file comes first.
		args = append([]string{args[0], "--port", fmt.Sprint(s.port)}, args[1:]...)
	} else {
		args = append([]string{"--port", fmt.Sprint(s.port)}, args...)
	}
	cmd := exec.Command("redis-server", append(args, "--bind", "127.0.0.1", "--logfile", "")...)
	if err := cmd.Start(); err != nil {
		s.t.Fatalf("redistest: redis-server (apt-get install redis-server): %v", err)
	}
	s.mu.Lock()
	s.cmd = cmd
	s.mu.Unlock()
	c := redis.NewClient(&redis.Options{Addr: fmt.Sprintf("127.0.0.1:%d", s.port), MaxRetries: -1})
	defer c.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := c.Ping(context.Background()).Err()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("redistest: redis-server on port %d does not answer: %v", s.port, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Kill kills the server with SIGKILL (what it held is gone) and waits for it to exit. Killing a
// server not running does nothing.
func (s *Server) Kill() {
	s.mu.Lock()
	cmd := s.cmd
	s.cmd = nil
	s.mu.Unlock()
	if cmd != nil {
		cmd.Process.Kill()
		cmd.Wait()
	}
}
