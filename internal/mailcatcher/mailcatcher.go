// Package mailcatcher is a small real SMTP server (emersion/go-smtp) that keeps what it receives:
// `dispatch demo` writes each message as an .eml file, and the end-to-end tests read the messages
// back and make it answer with failures (a 451, a 550, a dropped connection, a stall) on demand:
// one at a time (FailNext) or on every Nth message (SetChaos).
package mailcatcher

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Message is one received message.
type Message struct {
	From string
	To   []string
	Data []byte
}

// Fault is what the server does instead of accepting one recipient or message.
type Fault struct {
	// Code and Text answer RCPT TO (when AtData is false) or DATA with an SMTP error.
	Code int
	Text string
	// AtData answers at the end of DATA instead of at RCPT TO.
	AtData bool
	// Drop closes the connection in the middle of DATA, without an answer.
	Drop bool
	// Stall, when not zero, reads the whole message, then says nothing for this long (longer than
	// the client's timeout, to test it) and closes the connection without an answer. The message is
	// not kept: the server never accepted it.
	Stall time.Duration
}

// atData reports whether the fault is met at the end of DATA rather than at RCPT TO.
func (f Fault) atData() bool { return f.AtData || f.Drop || f.Stall > 0 }

// Chaos makes the server fail a share of the messages, as an unreliable server does: every
// Every-th message (the Every-th, the 2×Every-th ...) meets Fault. A zero Chaos fails nothing.
type Chaos struct {
	// Every is how often a message meets Fault, counting the messages begun (MAIL FROM) since
	// SetChaos. 0: never.
	Every int
	// Fault is what those messages meet.
	Fault Fault
}

// Server is a running catcher.
type Server struct {
	srv      *smtp.Server
	ln       net.Listener
	dir      string
	mu       sync.Mutex
	messages []Message
	faults   []Fault
	chaos    Chaos
	begun    int // messages begun since SetChaos
	// closed is closed by Close: a stalled session stops waiting.
	closed    chan struct{}
	closeOnce sync.Once
	met       atomic.Int64 // faults answered
	sessions  atomic.Int64
	received  atomic.Int64
	bytes     atomic.Int64
	// seq numbers the .eml files.
	seq atomic.Int64
}

// Start listens on addr ("127.0.0.1:0" for any port). When dir is not empty every message is also
// written there as NNNNNN.eml (written to a temporary name and renamed, so a reader never sees half a
// file). When keep is false messages are counted but not kept in memory (benchmarks).
func Start(addr, dir string, keep bool) (*Server, error) {
	if dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, err
		}
	}
	s := &Server{dir: dir, closed: make(chan struct{})}
	if dir != "" {
		// A catcher started again on the same folder goes on numbering after the files there.
		files, err := filepath.Glob(filepath.Join(dir, "*.eml"))
		if err != nil {
			return nil, err
		}
		s.seq.Store(int64(len(files)))
		for _, f := range files {
			var n int64
			if _, err := fmt.Sscanf(filepath.Base(f), "%d.eml", &n); err == nil && n > s.seq.Load() {
				s.seq.Store(n)
			}
		}
	}
	be := &backend{s: s, keep: keep}
	s.srv = smtp.NewServer(be)
	s.srv.Domain = "localhost"
	s.srv.AllowInsecureAuth = true
	s.srv.MaxMessageBytes = 10 << 20
	s.srv.MaxRecipients = 50
	s.srv.ReadTimeout = time.Minute
	s.srv.WriteTimeout = time.Minute
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	s.ln = ln
	go s.srv.Serve(ln)
	return s, nil
}

// Addr is the address the server listens on.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// URL is the DISPATCH_SMTP_URL of the server (no TLS).
func (s *Server) URL() string { return "smtp://" + s.Addr() + "?starttls=off" }

// Close stops the server.
func (s *Server) Close() error {
	s.closeOnce.Do(func() { close(s.closed) })
	return s.srv.Close()
}

// Messages returns a copy of the messages kept so far.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.messages...)
}

// Received counts the messages accepted.
func (s *Server) Received() int64 { return s.received.Load() }

// Bytes counts the bytes of the messages accepted.
func (s *Server) Bytes() int64 { return s.bytes.Load() }

// Sessions counts the SMTP connections opened.
func (s *Server) Sessions() int64 { return s.sessions.Load() }

// FailNext queues faults: each following recipient (or message, for AtData and Drop) meets the next one.
func (s *Server) FailNext(f ...Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, f...)
}

// SetChaos makes every c.Every-th message from now on meet c.Fault (faults queued by FailNext come
// first); a zero Chaos turns it off.
func (s *Server) SetChaos(c Chaos) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.chaos, s.begun = c, 0
}

// Faults counts the faults the server has answered with, queued or by chaos.
func (s *Server) Faults() int64 { return s.met.Load() }

// nextFault takes the first queued fault when it applies to the stage.
func (s *Server) nextFault(atData bool) *Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.faults) == 0 || s.faults[0].atData() != atData {
		return nil
	}
	f := s.faults[0]
	s.faults = s.faults[1:]
	return &f
}

// chaosFault counts a message begun and returns the fault it meets by chaos, or nil.
func (s *Server) chaosFault() *Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.chaos.Every <= 0 {
		return nil
	}
	s.begun++
	if s.begun%s.chaos.Every != 0 {
		return nil
	}
	f := s.chaos.Fault
	return &f
}

type backend struct {
	s    *Server
	keep bool
}

func (b *backend) NewSession(c *smtp.Conn) (smtp.Session, error) {
	b.s.sessions.Add(1)
	return &session{b: b, conn: c}, nil
}

type session struct {
	b    *backend
	conn *smtp.Conn
	from string
	to   []string
	// chaos is the fault the current message meets by chaos (Server.SetChaos), until it is met.
	chaos *Fault
}

// fault returns the fault met at this stage of the message: a queued one first, then chaos.
func (s *session) fault(atData bool) *Fault {
	f := s.b.s.nextFault(atData)
	if f == nil && s.chaos != nil && s.chaos.atData() == atData {
		f, s.chaos = s.chaos, nil
	}
	if f != nil {
		s.b.s.met.Add(1)
	}
	return f
}

func (s *session) AuthMechanisms() []string { return []string{sasl.Plain} }

func (s *session) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(identity, username, password string) error { return nil }), nil
}

func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	s.from = from
	s.chaos = s.b.s.chaosFault()
	return nil
}

func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	if f := s.fault(false); f != nil {
		return &smtp.SMTPError{Code: f.Code, EnhancedCode: smtp.EnhancedCodeNotSet, Message: f.Text}
	}
	s.to = append(s.to, to)
	return nil
}

func (s *session) Data(r io.Reader) error {
	if f := s.fault(true); f != nil {
		if f.Drop {
			io.CopyN(io.Discard, r, 64)
			s.conn.Conn().Close()
			return errors.New("connection dropped")
		}
		if f.Stall > 0 {
			io.Copy(io.Discard, r)
			stall := time.NewTimer(f.Stall)
			defer stall.Stop()
			select {
			case <-stall.C:
			case <-s.b.s.closed:
			}
			s.conn.Conn().Close()
			return errors.New("connection dropped after a stall")
		}
		io.Copy(io.Discard, r)
		return &smtp.SMTPError{Code: f.Code, EnhancedCode: smtp.EnhancedCodeNotSet, Message: f.Text}
	}
	var buf bytes.Buffer
	if _, err := io.Copy(&buf, r); err != nil {
		return err
	}
	s.b.s.received.Add(1)
	s.b.s.bytes.Add(int64(buf.Len()))
	if s.b.s.dir != "" {
		name := filepath.Join(s.b.s.dir, fmt.Sprintf("%06d.eml", s.b.s.seq.Add(1)))
		if err := os.WriteFile(name+".tmp", buf.Bytes(), 0o644); err != nil {
			return err
		}
		if err := os.Rename(name+".tmp", name); err != nil {
			return err
		}
	}
	if s.b.keep {
		s.b.s.mu.Lock()
		s.b.s.messages = append(s.b.s.messages, Message{From: s.from, To: append([]string(nil), s.to...), Data: buf.Bytes()})
		s.b.s.mu.Unlock()
	}
	return nil
}

func (s *session) Reset() {
	s.from, s.to, s.chaos = "", nil, nil
}

func (s *session) Logout() error { return nil }
