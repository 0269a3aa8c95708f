// Package email sends marketing email over SMTP with go-mail.
//
// A Sender keeps a pool of open SMTP connections and sends each message on one of them: a message
// costs MAIL FROM, RCPT TO and DATA, with no NOOP or RSET in between. A refusal by the server comes
// back as a *ReplyError (permanent for a 5xx about the recipient or the message, see ErrPermanent);
// anything else (a 4xx, a timeout, a dropped connection, a failed dial) is transient. The recipient's
// address never appears in an error or a log line.
package email

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	netmail "net/mail"
	"net/textproto"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	mail "github.com/wneessen/go-mail"
	mailsmtp "github.com/wneessen/go-mail/smtp"
)

// ErrClosed is returned by Send after Close.
var ErrClosed = errors.New("email sender closed")

// quitTimeout bounds the QUIT sent to a connection being retired.
const quitTimeout = 5 * time.Second

// Sender sends email over a pool of reused SMTP connections. It is safe for concurrent use; at most
// Config.Connections messages are in flight at once, one per connection. Close it when done.
type Sender struct {
	cfg     Config
	log     *slog.Logger
	ep      endpoint
	from    *netmail.Address
	tlsConf *tls.Config
	opts    []mail.Option // go-mail client options shared by every connection
	dialer  net.Dialer
	open    atomic.Int64 // connections open, for logs

	slots chan struct{} // one token per message in flight, so per connection in use
	done  chan struct{} // closed by Close

	mu     sync.Mutex
	idle   []*conn // idle connections, most recently used last
	closed bool

	inflight sync.WaitGroup // Sends under way
	bg       sync.WaitGroup // the janitor and connections being retired
}

// conn is one pooled SMTP connection: its own go-mail Client (the dialing settings) and the
// smtp.Client of the session it dialed.
type conn struct {
	mc        *mail.Client
	sc        *mailsmtp.Client
	nc        *deadlineConn
	sent      int       // messages sent on it
	idleSince time.Time // when it was last put back
}

// New returns a Sender for cfg, after cfg.Validate. It dials nothing yet: connections are opened
// by Send as needed. A nil log discards.
func New(cfg Config, log *slog.Logger) (*Sender, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	ep, err := parseURL(cfg.URL)
	if err != nil {
		return nil, fmt.Errorf("DISPATCH_SMTP_URL: %w", err)
	}
	from, err := netmail.ParseAddress(cfg.From)
	if err != nil {
		return nil, fmt.Errorf("DISPATCH_MAIL_FROM: %q is not an email address: %v", cfg.From, err)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	tlsConf := &tls.Config{ServerName: ep.host, MinVersion: tls.VersionTLS12}
	if cfg.TLSConfig != nil {
		tlsConf = cfg.TLSConfig.Clone()
		if tlsConf.ServerName == "" {
			tlsConf.ServerName = ep.host
		}
	}
	s := &Sender{
		cfg: cfg, log: log, ep: ep, from: from, tlsConf: tlsConf,
		dialer: net.Dialer{Timeout: cfg.Timeout},
		slots:  make(chan struct{}, cfg.Connections),
		done:   make(chan struct{}),
	}
	s.opts = []mail.Option{
		mail.WithPort(ep.port),
		mail.WithTimeout(cfg.Timeout),
		mail.WithTLSConfig(tlsConf),
		// A message is MAIL, RCPT, DATA: no NOOP before and after, no RSET after a success (the
		// end of DATA ends the transaction). Errors are followed by an RSET of our own.
		mail.WithoutNoop(),
		mail.WithoutRset(),
	}
	if ep.implicitTLS {
		s.opts = append(s.opts, mail.WithSSL())
	} else {
		s.opts = append(s.opts, mail.WithTLSPolicy(ep.policy))
	}
	if ep.user != "" {
		s.opts = append(s.opts, mail.WithUsername(ep.user), mail.WithPassword(ep.pass),
			mail.WithOpportunisticSMTPAuth(mail.SMTPAuthPlain, mail.SMTPAuthLogin))
	}
	s.bg.Add(1)
	go s.janitor()
	log.Info("email sender ready", slog.String("host", ep.host), slog.Int("port", ep.port),
		slog.String("tls", ep.tlsMode()), slog.Bool("auth", ep.user != ""),
		slog.Int("connections", cfg.Connections))
	return s, nil
}

// Send sends m on a pooled connection, dialing one when none is idle and fewer than Connections are
// open; it waits for a free connection otherwise, or until ctx ends. It returns nil once the server
// has accepted the message. A refusal is a *ReplyError, which wraps ErrPermanent for a 5xx reply
// to RCPT TO or DATA; a malformed message wraps ErrPermanent too. Every other error (a 4xx, a
// timeout, a dropped connection, a failed dial, ctx ending) is transient. No error names the
// recipient.
func (s *Sender) Send(ctx context.Context, m Message) error {
	msg, err := s.compose(m)
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("smtp send: %w", context.Cause(ctx))
	}
	if err := s.acquire(ctx); err != nil {
		return err
	}
	defer s.release()
	for attempt := 0; ; attempt++ {
		c, reused, err := s.take(ctx)
		if err != nil {
			return err
		}
		retry, err := s.transmit(ctx, c, msg, m, reused && attempt == 0)
		if !retry {
			return err
		}
	}
}

// Close closes the idle connections with QUIT, waits for the Sends under way to finish (each is
// bounded by Timeout) and closes their connections too. Send returns ErrClosed afterwards.
// It always returns nil; calling it again does nothing.
func (s *Sender) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	idle := s.idle
	s.idle = nil
	s.mu.Unlock()
	close(s.done)
	for _, c := range idle {
		s.retireAsync(c, "sender closed")
	}
	s.inflight.Wait()
	s.bg.Wait()
	return nil
}

// acquire waits for a free slot: a message may be sent.
func (s *Sender) acquire(ctx context.Context) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return ErrClosed
	}
	s.inflight.Add(1)
	s.mu.Unlock()
	select {
	case s.slots <- struct{}{}:
		return nil
	default:
	}
	select {
	case s.slots <- struct{}{}:
		return nil
	case <-ctx.Done():
		s.inflight.Done()
		return fmt.Errorf("wait for an SMTP connection: %w", context.Cause(ctx))
	case <-s.done:
		s.inflight.Done()
		return ErrClosed
	}
}

// release frees the slot taken by acquire.
func (s *Sender) release() {
	<-s.slots
	s.inflight.Done()
}

// take returns an idle connection, most recently used first, or dials a new one. reused reports
// whether the connection had been used before (and so may have been dropped by the server).
func (s *Sender) take(ctx context.Context) (c *conn, reused bool, err error) {
	s.mu.Lock()
	if n := len(s.idle); n > 0 {
		c = s.idle[n-1]
		s.idle[n-1] = nil
		s.idle = s.idle[:n-1]
		if time.Since(c.idleSince) < s.cfg.IdleTimeout {
			s.mu.Unlock()
			return c, true, nil
		}
		// The most recent is stale, so are all the others.
		stale := append(s.idle, c)
		s.idle = nil
		s.mu.Unlock()
		for _, c := range stale {
			s.retireAsync(c, "idle")
		}
	} else {
		s.mu.Unlock()
	}
	c, err = s.dial(ctx)
	return c, false, err
}

// put returns a healthy connection to the pool, or retires it after MaxMessagesPerConn messages or
// once the Sender is closed.
func (s *Sender) put(c *conn) {
	if c.sent >= s.cfg.MaxMessagesPerConn {
		s.retireAsync(c, "message limit")
		return
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		s.retireAsync(c, "sender closed")
		return
	}
	c.idleSince = time.Now()
	s.idle = append(s.idle, c)
	s.mu.Unlock()
}

// dial opens a new SMTP session: connect (TLS for smtps://), EHLO, STARTTLS as the policy says,
// AUTH when credentials are set. Its error is transient.
func (s *Sender) dial(ctx context.Context) (*conn, error) {
	var nc atomic.Pointer[deadlineConn]
	dialFunc := func(ctx context.Context, network, addr string) (net.Conn, error) {
		raw, err := s.dialer.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		dc := &deadlineConn{Conn: raw, timeout: s.cfg.Timeout}
		nc.Store(dc)
		if err := ctx.Err(); err != nil {
			raw.Close()
			return nil, err
		}
		if !s.ep.implicitTLS {
			return dc, nil
		}
		tc := tls.Client(dc, s.tlsConf)
		if err := tc.HandshakeContext(ctx); err != nil {
			raw.Close()
			return nil, err
		}
		return tc, nil
	}
	opts := make([]mail.Option, 0, len(s.opts)+1)
	opts = append(opts, s.opts...)
	opts = append(opts, mail.WithDialContextFunc(dialFunc))
	mc, err := mail.NewClient(s.ep.host, opts...)
	if err != nil {
		return nil, fmt.Errorf("smtp connect: %w", err)
	}
	stop := context.AfterFunc(ctx, func() {
		if dc := nc.Load(); dc != nil {
			dc.abort()
		}
	})
	sc, err := mc.DialToSMTPClientWithContext(ctx)
	cancelled := !stop()
	if err != nil || cancelled {
		// go-mail leaves the connection open when EHLO, STARTTLS or AUTH fail.
		if dc := nc.Load(); dc != nil {
			dc.Conn.Close()
		}
		if ctx.Err() != nil {
			return nil, fmt.Errorf("smtp connect to %s: %w", s.addr(), context.Cause(ctx))
		}
		return nil, fmt.Errorf("smtp connect to %s: %w", s.addr(), err)
	}
	open := s.open.Add(1)
	s.log.Debug("smtp connection opened", slog.Int64("open", open))
	return &conn{mc: mc, sc: sc, nc: nc.Load()}, nil
}

// addr is the server's host:port, for errors.
func (s *Sender) addr() string {
	return net.JoinHostPort(s.ep.host, strconv.Itoa(s.ep.port))
}

// transmit sends msg on c and decides the connection's fate: back to the pool after a success or
// a refusal the server answered (after an RSET), discarded when the connection broke. retry
// reports that the message was not sent because a reused connection turned out to be dead before
// the first byte of the message: the caller tries once more on a fresh connection.
func (s *Sender) transmit(ctx context.Context, c *conn, msg *mail.Msg, m Message, mayRetry bool) (retry bool, err error) {
	var stop func() bool
	if ctx.Done() != nil {
		stop = context.AfterFunc(ctx, c.nc.abort)
	}
	sendErr := s.exchange(ctx, c, msg, m.Ready)
	var se *stepError
	if stop != nil && !stop() {
		// ctx ended during the exchange: the session is in an unknown state.
		s.discard(c, m.DeliveryID, "cancelled")
		switch {
		case sendErr == nil:
			return false, nil
		case !errors.As(sendErr, &se):
			return false, sendErr // ready's error, which ended with ctx
		}
		return false, fmt.Errorf("smtp send: %w", context.Cause(ctx))
	}
	if sendErr == nil {
		c.sent++
		s.put(c)
		return false, nil
	}
	if !errors.As(sendErr, &se) {
		// The message's ready failed: the server has part of it and never its end.
		s.discard(c, m.DeliveryID, "not ready")
		return false, sendErr
	}
	code, command := se.code(), commandOf(se.reason)
	if code >= 400 && code < 600 && code != 421 {
		// The server answered: the session is alive. End the transaction and keep it.
		if err := s.reset(ctx, c); err != nil {
			s.discard(c, m.DeliveryID, "RSET failed")
		} else {
			s.put(c)
		}
		return false, &ReplyError{Command: command, Code: code, Reply: replyText(se, m.To)}
	}
	// 421 (the server is closing the session) or no reply at all: the connection is gone.
	s.discard(c, m.DeliveryID, command+" failed")
	if mayRetry && (se.reason == mail.ErrConnCheck || se.reason == mail.ErrSMTPMailFrom) {
		// Nothing of the message was sent: an idle connection the server had dropped.
		return true, nil
	}
	if code == 421 {
		return false, &ReplyError{Command: command, Code: code, Reply: replyText(se, m.To)}
	}
	return false, fmt.Errorf("smtp %s: %s", command, replyText(se, m.To))
}

// reset ends a refused transaction with RSET, cut short like every other step when ctx ends
// (a server that never answers it would otherwise hold Send for the whole Timeout).
func (s *Sender) reset(ctx context.Context, c *conn) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if ctx.Done() == nil {
		return c.sc.Reset()
	}
	stop := context.AfterFunc(ctx, c.nc.abort)
	err := c.sc.Reset()
	if !stop() {
		return context.Cause(ctx) // aborted, during the RSET or just after it: not to be reused
	}
	return err
}

// exchange sends msg on c as one SMTP transaction: MAIL FROM, RCPT TO, DATA and the content, then,
// once ready returns nil (at once when ready is nil), the end of DATA, by which the server takes
// the message. It is go-mail's Client.SendWithSMTPClient cut in two at the one point that matters
// to the ledger: the worker's ready waits for the record of the batch's previous message, so the
// server never holds two messages of a batch that the ledger does not show sent, and the wait
// overlaps the exchange instead of preceding it. A failure of a step is a *stepError; an error of
// ready is returned as it is, with the transaction unfinished (the caller drops the connection,
// and the server discards what it has).
func (s *Sender) exchange(ctx context.Context, c *conn, msg *mail.Msg, ready func(context.Context) error) error {
	if !c.sc.HasConnection() {
		return &stepError{mail.ErrConnCheck, mail.ErrNoActiveConnection}
	}
	if err := c.sc.UpdateDeadline(s.cfg.Timeout); err != nil {
		return &stepError{mail.ErrConnCheck, err}
	}
	from, err := msg.GetSender(false)
	if err != nil {
		return &stepError{mail.ErrGetSender, err}
	}
	rcpts, err := msg.GetRecipients()
	if err != nil {
		return &stepError{mail.ErrGetRcpts, err}
	}
	if err := c.sc.Mail(from); err != nil {
		return &stepError{mail.ErrSMTPMailFrom, err}
	}
	for _, r := range rcpts {
		if err := c.sc.Rcpt(r); err != nil {
			return &stepError{mail.ErrSMTPRcptTo, err}
		}
	}
	w, err := c.sc.Data()
	if err != nil {
		return &stepError{mail.ErrSMTPData, err}
	}
	if _, err := msg.WriteTo(w); err != nil {
		return &stepError{mail.ErrWriteContent, err}
	}
	if ready != nil {
		if err := ready(ctx); err != nil {
			return err
		}
	}
	if err := w.Close(); err != nil {
		return &stepError{mail.ErrSMTPDataClose, err}
	}
	return nil
}

// stepError is the failure of one step of exchange: the step (go-mail's names for them) and the
// server's reply or the connection's error.
type stepError struct {
	reason mail.SendErrReason
	err    error
}

func (e *stepError) Error() string { return e.reason.String() + ": " + e.err.Error() }

func (e *stepError) Unwrap() error { return e.err }

// code is the server's reply code when it answered with a 4xx or 5xx, else 0.
func (e *stepError) code() int {
	var te *textproto.Error
	if errors.As(e.err, &te) && te.Code >= 400 && te.Code < 600 {
		return te.Code
	}
	return 0
}

// discard closes a connection in an unknown or broken state, without QUIT.
func (s *Sender) discard(c *conn, deliveryID int64, reason string) {
	c.nc.Conn.Close()
	open := s.open.Add(-1)
	s.log.Debug("smtp connection dropped", slog.Int64("delivery_id", deliveryID),
		slog.String("reason", reason), slog.Int("sent", c.sent), slog.Int64("open", open))
}

// retireAsync closes a healthy connection with QUIT in the background; Close waits for it.
func (s *Sender) retireAsync(c *conn, reason string) {
	s.bg.Add(1)
	go func() {
		defer s.bg.Done()
		s.retire(c, reason)
	}()
}

// retire closes a healthy connection with QUIT.
func (s *Sender) retire(c *conn, reason string) {
	c.nc.setTimeout(min(quitTimeout, s.cfg.Timeout))
	_ = c.sc.Quit()
	c.nc.Conn.Close()
	open := s.open.Add(-1)
	s.log.Debug("smtp connection closed", slog.String("reason", reason), slog.Int("sent", c.sent),
		slog.Int64("open", open))
}

// janitor retires connections left idle for IdleTimeout, until Close.
func (s *Sender) janitor() {
	defer s.bg.Done()
	tick := max(s.cfg.IdleTimeout/2, 10*time.Millisecond)
	t := time.NewTicker(tick)
	defer t.Stop()
	for {
		select {
		case <-s.done:
			return
		case <-t.C:
		}
		s.mu.Lock()
		// idle is ordered by idleSince: the stale ones come first.
		n := 0
		for n < len(s.idle) && time.Since(s.idle[n].idleSince) >= s.cfg.IdleTimeout {
			n++
		}
		stale := make([]*conn, n)
		copy(stale, s.idle[:n])
		s.idle = append(s.idle[:0], s.idle[n:]...)
		clear(s.idle[len(s.idle) : len(s.idle)+n])
		s.mu.Unlock()
		for _, c := range stale {
			s.retire(c, "idle")
		}
	}
}

// deadlineConn is the TCP connection under a session. Every write (so every SMTP command) renews
// the deadline by timeout, so that each command and the reply that follows get Timeout. abort
// sets a deadline in the past that nothing can renew: the command under way fails at once.
type deadlineConn struct {
	net.Conn
	mu      sync.Mutex
	timeout time.Duration
	aborted bool
}

var errAborted = errors.New("smtp connection aborted")

// Write renews the deadline and writes.
func (c *deadlineConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	if c.aborted {
		c.mu.Unlock()
		return 0, errAborted
	}
	err := c.Conn.SetDeadline(time.Now().Add(c.timeout))
	c.mu.Unlock()
	if err != nil {
		return 0, err
	}
	return c.Conn.Write(p)
}

// SetDeadline sets the deadline unless the connection was aborted.
func (c *deadlineConn) SetDeadline(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.aborted {
		return errAborted
	}
	return c.Conn.SetDeadline(t)
}

// SetReadDeadline sets the read deadline unless the connection was aborted.
func (c *deadlineConn) SetReadDeadline(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.aborted {
		return errAborted
	}
	return c.Conn.SetReadDeadline(t)
}

// SetWriteDeadline sets the write deadline unless the connection was aborted.
func (c *deadlineConn) SetWriteDeadline(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.aborted {
		return errAborted
	}
	return c.Conn.SetWriteDeadline(t)
}

// setTimeout changes the deadline each write sets, and sets it now.
func (c *deadlineConn) setTimeout(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.timeout = d
	if !c.aborted {
		_ = c.Conn.SetDeadline(time.Now().Add(d))
	}
}

// abort fails the I/O under way and all that follows.
func (c *deadlineConn) abort() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.aborted = true
	_ = c.Conn.SetDeadline(time.Unix(1, 0))
}
