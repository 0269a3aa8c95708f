package email

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"math/big"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// testServer is a real SMTP server (go-smtp) on 127.0.0.1:0. It records every message it accepts,
// counts connections, and can be told how to answer the next RCPT or DATA, to drop the connection in
// the middle of DATA, or to hold DATA until released.
type testServer struct {
	addr string
	srv  *smtp.Server
	user string // with user set, AUTH PLAIN is offered and required
	pass string

	mu          sync.Mutex
	msgs        []received
	conns       map[*smtp.Conn]bool
	rcptReplies []*smtp.SMTPError // answers to the next RCPTs; nil accepts
	dataReplies []*smtp.SMTPError // answers to the next DATAs, after reading the message
	dropData    int               // how many of the next DATAs to cut off in the middle
	stall       chan struct{}     // when set, DATA waits until it is closed
	counting    bool              // with counting, messages are counted, not kept
	count       int
}

// received is one accepted message.
type received struct {
	From string
	To   []string
	Data []byte
	TLS  bool   // the session ran over TLS (STARTTLS or implicit)
	User string // the authenticated user, if any
}

// serverOptions says what the test server offers.
type serverOptions struct {
	startTLS    bool // offer STARTTLS with a self-signed certificate
	implicitTLS bool // speak TLS from the first byte (smtps)
	user, pass  string
	counting    bool // count messages instead of keeping them (benchmarks)
}

func startServer(t testing.TB, opts serverOptions) *testServer {
	t.Helper()
	ts := &testServer{conns: map[*smtp.Conn]bool{}, user: opts.user, pass: opts.pass, counting: opts.counting}
	srv := smtp.NewServer(ts)
	srv.Domain = "localhost"
	srv.AllowInsecureAuth = true
	srv.ReadTimeout = 10 * time.Second
	srv.WriteTimeout = 10 * time.Second
	srv.MaxMessageBytes = 10 << 20
	srv.ErrorLog = nopLogger{}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if opts.startTLS || opts.implicitTLS {
		cfg := &tls.Config{Certificates: []tls.Certificate{selfSignedCert(t)}}
		if opts.startTLS {
			srv.TLSConfig = cfg
		}
		if opts.implicitTLS {
			l = tls.NewListener(l, cfg)
		}
	}
	ts.addr = l.Addr().String()
	ts.srv = srv
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Serve(l); err != nil && !errors.Is(err, smtp.ErrServerClosed) && !errors.Is(err, net.ErrClosed) {
			t.Errorf("smtp server: %v", err)
		}
	}()
	t.Cleanup(func() {
		ts.release()
		srv.Close()
		l.Close() // in case Close ran before Serve took the listener
		<-done
	})
	return ts
}

type nopLogger struct{}

func (nopLogger) Printf(string, ...any) {}
func (nopLogger) Println(...any)        {}

// NewSession implements smtp.Backend.
func (ts *testServer) NewSession(c *smtp.Conn) (smtp.Session, error) {
	ts.mu.Lock()
	ts.conns[c] = true
	ts.mu.Unlock()
	return &testSession{ts: ts, c: c}, nil
}

// messages returns the accepted messages.
func (ts *testServer) messages() []received {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return append([]received(nil), ts.msgs...)
}

// connections returns how many connections the server has seen.
func (ts *testServer) connections() int {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return len(ts.conns)
}

// answerRcpt queues the answer to the next RCPT.
func (ts *testServer) answerRcpt(e *smtp.SMTPError) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	ts.rcptReplies = append(ts.rcptReplies, e)
}

// answerData queues the answer to the next DATA, given after the message was read.
func (ts *testServer) answerData(e *smtp.SMTPError) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	ts.dataReplies = append(ts.dataReplies, e)
}

// dropNextData makes the server cut the connection in the middle of the next DATA.
func (ts *testServer) dropNextData() {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	ts.dropData++
}

// stallData makes DATA wait until release.
func (ts *testServer) stallData() {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	ts.stall = make(chan struct{})
}

// release lets stalled DATAs go on.
func (ts *testServer) release() {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	if ts.stall != nil {
		close(ts.stall)
		ts.stall = nil
	}
}

// dropAll cuts every connection from the server side, as a server does with idle sessions.
func (ts *testServer) dropAll() {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	for c := range ts.conns {
		c.Conn().Close()
	}
}

// delivered returns how many messages were accepted.
func (ts *testServer) delivered() int {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return ts.count
}

type testSession struct {
	ts   *testServer
	c    *smtp.Conn
	user string
	from string
	to   []string
}

// AuthMechanisms implements smtp.AuthSession: PLAIN when the server has a user.
func (s *testSession) AuthMechanisms() []string {
	if s.ts.user == "" {
		return nil
	}
	return []string{sasl.Plain}
}

// Auth implements smtp.AuthSession.
func (s *testSession) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		if user != s.ts.user || pass != s.ts.pass {
			return smtp.ErrAuthFailed
		}
		s.user = user
		return nil
	}), nil
}

func (s *testSession) Mail(from string, _ *smtp.MailOptions) error {
	if s.ts.user != "" && s.user == "" {
		return smtp.ErrAuthRequired
	}
	s.from = from
	return nil
}

func (s *testSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.ts.mu.Lock()
	var reply *smtp.SMTPError
	if len(s.ts.rcptReplies) > 0 {
		reply = s.ts.rcptReplies[0]
		s.ts.rcptReplies = s.ts.rcptReplies[1:]
	}
	s.ts.mu.Unlock()
	if reply != nil {
		return reply
	}
	s.to = append(s.to, to)
	return nil
}

func (s *testSession) Data(r io.Reader) error {
	s.ts.mu.Lock()
	drop := s.ts.dropData > 0
	if drop {
		s.ts.dropData--
	}
	stall := s.ts.stall
	var reply *smtp.SMTPError
	if len(s.ts.dataReplies) > 0 {
		reply = s.ts.dataReplies[0]
		s.ts.dataReplies = s.ts.dataReplies[1:]
	}
	s.ts.mu.Unlock()
	if drop {
		buf := make([]byte, 200)
		_, _ = io.ReadFull(r, buf)
		s.c.Conn().Close()
		return errors.New("connection dropped")
	}
	if stall != nil {
		<-stall
	}
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	if reply != nil {
		return reply
	}
	_, isTLS := s.c.TLSConnectionState()
	s.ts.mu.Lock()
	s.ts.count++
	if !s.ts.counting {
		s.ts.msgs = append(s.ts.msgs, received{From: s.from, To: s.to, Data: data, TLS: isTLS, User: s.user})
	}
	s.ts.mu.Unlock()
	return nil
}

func (s *testSession) Reset() {
	s.from, s.to = "", nil
}

func (s *testSession) Logout() error { return nil }

// selfSignedCert returns a certificate for 127.0.0.1 and localhost, valid for an hour.
func selfSignedCert(t testing.TB) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "localhost"},
		NotBefore:    time.Now().Add(-time.Minute),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:     []string{"localhost"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}
