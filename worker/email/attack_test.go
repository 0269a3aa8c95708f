package email

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	mail "github.com/wneessen/go-mail"
)

// hostileServer is a scripted SMTP server on 127.0.0.1:0 that answers each step as its script
// says: any reply code, multi-line replies, malformed lines, a close before or after a reply. It
// counts the messages it accepted (a 250 given to the end of DATA) and the ends of DATA it saw.
type hostileServer struct {
	addr string
	ln   net.Listener
	// script answers step ("MAIL", "RCPT", "DATA", "END", "RSET", "QUIT") the n-th time it is seen
	// on the server (0-based): the raw reply, lines separated by "\r\n" ("" for the default
	// reply), and whether to close the connection after it (with an empty reply: close without
	// answering).
	script func(step string, n int) (reply string, closeAfter bool)

	mu       sync.Mutex
	steps    map[string]int
	conns    map[net.Conn]bool
	accepted int // ends of DATA answered 250
	dots     int // ends of DATA received
	seen     int // connections accepted
	wg       sync.WaitGroup
}

var defaultReplies = map[string]string{
	"MAIL": "250 2.1.0 Ok",
	"RCPT": "250 2.1.5 Ok",
	"DATA": "354 End data with <CR><LF>.<CR><LF>",
	"END":  "250 2.0.0 Ok: queued",
	"RSET": "250 2.0.0 Ok",
	"NOOP": "250 2.0.0 Ok",
	"QUIT": "221 2.0.0 Bye",
}

func startHostile(t testing.TB, script func(step string, n int) (string, bool)) *hostileServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := &hostileServer{addr: ln.Addr().String(), ln: ln, script: script,
		steps: map[string]int{}, conns: map[net.Conn]bool{}}
	hs.wg.Add(1)
	go func() {
		defer hs.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			hs.mu.Lock()
			hs.conns[c] = true
			hs.seen++
			hs.mu.Unlock()
			hs.wg.Add(1)
			go func() {
				defer hs.wg.Done()
				hs.serve(c)
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		hs.closeAll()
		hs.wg.Wait()
	})
	return hs
}

// closeAll cuts every open connection from the server's side.
func (hs *hostileServer) closeAll() {
	hs.mu.Lock()
	defer hs.mu.Unlock()
	for c := range hs.conns {
		c.Close()
	}
}

// inject writes reply on every open connection, unasked, then closes them when closeAfter.
func (hs *hostileServer) inject(reply string, closeAfter bool) {
	hs.mu.Lock()
	defer hs.mu.Unlock()
	for c := range hs.conns {
		_, _ = c.Write([]byte(reply + "\r\n"))
		if closeAfter {
			c.Close()
		}
	}
}

// open is how many connections the server still has open.
func (hs *hostileServer) open() int {
	hs.mu.Lock()
	defer hs.mu.Unlock()
	return len(hs.conns)
}

func (hs *hostileServer) counts() (accepted, dots, seen int) {
	hs.mu.Lock()
	defer hs.mu.Unlock()
	return hs.accepted, hs.dots, hs.seen
}

func (hs *hostileServer) serve(c net.Conn) {
	defer func() {
		c.Close()
		hs.mu.Lock()
		delete(hs.conns, c)
		hs.mu.Unlock()
	}()
	r := bufio.NewReader(c)
	write := func(s string) bool {
		_, err := c.Write([]byte(s + "\r\n"))
		return err == nil
	}
	// answer runs the script for step: the reply given, and whether the session goes on.
	answer := func(step string) (string, bool) {
		hs.mu.Lock()
		n := hs.steps[step]
		hs.steps[step]++
		hs.mu.Unlock()
		reply, closeAfter := "", false
		if hs.script != nil {
			reply, closeAfter = hs.script(step, n)
		}
		if reply == "" && !closeAfter {
			reply = defaultReplies[step]
		}
		if step == "END" && strings.HasPrefix(reply, "250 ") {
			hs.mu.Lock()
			hs.accepted++
			hs.mu.Unlock()
		}
		if reply == "STALL" {
			// Say nothing more; read until the client goes away.
			_, _ = io.Copy(io.Discard, r)
			return reply, false
		}
		if reply != "" && !write(reply) {
			return reply, false
		}
		return reply, !closeAfter && step != "QUIT"
	}
	if !write("220 hostile.example ESMTP") {
		return
	}
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		line = strings.TrimRight(line, "\r\n")
		verb := strings.ToUpper(line)
		if i := strings.IndexAny(verb, " :"); i >= 0 {
			verb = verb[:i]
		}
		switch verb {
		case "EHLO":
			if !write("250-hostile.example\r\n250-8BITMIME\r\n250 PIPELINING") {
				return
			}
		case "HELO":
			if !write("250 hostile.example") {
				return
			}
		case "MAIL", "RCPT", "RSET", "NOOP", "QUIT":
			if _, ok := answer(verb); !ok {
				return
			}
		case "DATA":
			reply, ok := answer("DATA")
			if !ok {
				return
			}
			if !strings.HasPrefix(reply, "354") {
				continue
			}
			for {
				l, err := r.ReadString('\n')
				if err != nil {
					return
				}
				if l == ".\r\n" {
					break
				}
			}
			hs.mu.Lock()
			hs.dots++
			hs.mu.Unlock()
			if _, ok := answer("END"); !ok {
				return
			}
		default:
			if !write("502 5.5.2 Error: command not recognized") {
				return
			}
		}
	}
}

// hostileSender is a Sender for hs with a short timeout, closed at the end of the test, and its
// debug logs.
func hostileSender(t *testing.T, hs *hostileServer, cfg Config) (*Sender, *logBuffer) {
	t.Helper()
	if cfg.Timeout == 0 {
		cfg.Timeout = 3 * time.Second
	}
	cfg.URL = "smtp://" + hs.addr + "?starttls=off"
	return newSender(t, nil, "", cfg)
}

// closeWithin closes s and fails the test if that takes longer than d.
func closeWithin(t *testing.T, s *Sender, d time.Duration) {
	t.Helper()
	done := make(chan struct{})
	go func() { s.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(d):
		t.Fatalf("Sender.Close did not return within %s", d)
	}
}

// noLeak fails the test when text shows any of the recipient's parts.
func noLeak(t *testing.T, what, text string, parts ...string) {
	t.Helper()
	for _, p := range parts {
		if strings.Contains(strings.ToLower(text), strings.ToLower(p)) {
			t.Errorf("%s shows the recipient (%q): %s", what, p, text)
		}
	}
}

// scriptAt answers step with reply (and closes after it when closeAfter); the other steps get
// the default replies.
func scriptAt(step, reply string, closeAfter bool) func(string, int) (string, bool) {
	return func(s string, _ int) (string, bool) {
		if s == step {
			return reply, closeAfter
		}
		return "", false
	}
}

// A 4xx or 5xx reply echoing the recipient in any form (its address in other case, its mailbox
// alone, over several lines) is kept by its codes only, at every step, and nothing is accepted.
func TestAttackRefusalsNeverEchoRecipient(t *testing.T) {
	const to = "Maija.Meikalainen+promo@Example.COM"
	echoes := []string{
		"550 5.1.1 <maija.meikalainen+promo@example.com>: Recipient address rejected",
		"550 5.1.1 MAIJA.MEIKALAINEN+PROMO@EXAMPLE.COM unknown",
		"550 No such user (b2.maija.meikalainen+promo)",
		"550-5.1.1 <maija.meikalainen+promo@\r\n550-5.1.1 example.com>\r\n550 5.1.1 maija.meikalainen+promo does not exist",
		"451 4.3.0 maija.meikalainen+promo%example.com try later",
		"421 4.7.0 maija.meikalainen+promo at example.com: closing",
		"552-5.2.2 maija.meikalainen+promo\r\n552 5.2.2 mailbox full",
	}
	for _, step := range []string{"MAIL", "RCPT", "DATA", "END"} {
		for _, reply := range echoes {
			hs := startHostile(t, scriptAt(step, reply, false))
			s, logs := hostileSender(t, hs, Config{})
			err := s.Send(context.Background(), testMessage(1, to))
			var re *ReplyError
			if !errors.As(err, &re) || re.Command != commandOf(stepReason(step)) {
				t.Errorf("%s answered %q: %v, want a *ReplyError for %s", step, reply, err, commandOf(stepReason(step)))
				continue
			}
			noLeak(t, step+" "+reply+": error", err.Error(), "maija", "meikalainen")
			noLeak(t, step+" "+reply+": logs", logs.String(), "maija", "meikalainen")
			if a, _, _ := hs.counts(); a != 0 {
				t.Errorf("%s answered %q: the server accepted %d messages", step, reply, a)
			}
			closeWithin(t, s, 5*time.Second)
		}
	}
}

func stepReason(step string) mail.SendErrReason {
	switch step {
	case "MAIL":
		return mail.ErrSMTPMailFrom
	case "RCPT":
		return mail.ErrSMTPRcptTo
	case "DATA":
		return mail.ErrSMTPData
	}
	return mail.ErrSMTPDataClose
}

// A reply that is not a 4xx or 5xx where another was due (a 250 to DATA, a 354 to RCPT, a 6xx, a
// line without a code) is a broken session: its free text must not be kept either, as it may echo
// the recipient's mailbox just the same (replyText says the reply's free text is never kept).
func TestAttackOddReplyCodesNeverEchoRecipient(t *testing.T) {
	const to = "maija.meikalainen@example.com"
	cases := []struct{ step, reply string }{
		{"MAIL", "354 go on, maija.meikalainen"},
		{"RCPT", "354 Recipient maija.meikalainen unknown"},
		{"RCPT", "650 No such user (b2.maija.meikalainen)"},
		{"RCPT", "5.1.1 maija.meikalainen unknown"},
		{"DATA", "250 2.1.5 Ok maija.meikalainen"},
		{"END", "251 2.0.0 queued for maija.meikalainen%40example.com"},
		{"END", "600 maija.meikalainen @ example.com"},
	}
	for _, c := range cases {
		hs := startHostile(t, scriptAt(c.step, c.reply, false))
		s, logs := hostileSender(t, hs, Config{})
		err := s.Send(context.Background(), testMessage(1, to))
		if err == nil {
			t.Errorf("%s answered %q: Send reported the message sent", c.step, c.reply)
			continue
		}
		noLeak(t, c.step+" answered "+c.reply+": error", err.Error(), "maija", "meikalainen")
		noLeak(t, c.step+" answered "+c.reply+": logs", logs.String(), "maija", "meikalainen")
		if a, _, _ := hs.counts(); a != 0 {
			t.Errorf("%s answered %q: the server accepted %d messages", c.step, c.reply, a)
		}
		closeWithin(t, s, 5*time.Second)
	}
}

// A reply without an enhanced status code that echoes an address with digits in it: the digits
// of the address must not be taken for the enhanced status code (and so kept in the error).
func TestAttackEnhancedCodeFromAddress(t *testing.T) {
	const to = "maija.4.12.88@example.com" // a birthday in the mailbox
	for _, reply := range []string{
		"550 <maija.4.12.88@example.com>: Recipient address rejected",
		"550-Recipient rejected\r\n550 no such mailbox maija.4.12.88",
	} {
		hs := startHostile(t, scriptAt("RCPT", reply, false))
		s, _ := hostileSender(t, hs, Config{})
		err := s.Send(context.Background(), testMessage(1, to))
		var re *ReplyError
		if !errors.As(err, &re) || re.Code != 550 {
			t.Fatalf("%q: %v, want a 550 *ReplyError", reply, err)
		}
		noLeak(t, "RCPT answered "+reply, err.Error(), "4.12.88")
	}
}

// 421 at each step: a transient *ReplyError, the connection dropped (never reused), nothing
// accepted, and the next message goes out on a fresh connection. On a reused connection, 421 to
// MAIL FROM (the server dropped the idle session) is retried at once.
func TestAttack421AtEachStep(t *testing.T) {
	for _, step := range []string{"MAIL", "RCPT", "DATA", "END"} {
		hs := startHostile(t, func(s string, n int) (string, bool) {
			if s == step && n == 0 {
				return "421-4.3.2 hostile.example shutting down\r\n421 4.3.2 bye maija.meikalainen", true
			}
			return "", false
		})
		s, _ := hostileSender(t, hs, Config{})
		err := s.Send(context.Background(), testMessage(1, "maija.meikalainen@example.com"))
		var re *ReplyError
		if !errors.As(err, &re) || re.Code != 421 || re.Permanent() || errors.Is(err, ErrPermanent) {
			t.Errorf("421 at %s: %v, want a transient 421 *ReplyError", step, err)
		}
		noLeak(t, "421 at "+step, fmt.Sprint(err), "maija")
		if err := s.Send(context.Background(), testMessage(2, "b@example.com")); err != nil {
			t.Errorf("421 at %s, then: %v", step, err)
		}
		if a, _, seen := hs.counts(); a != 1 || seen != 2 {
			t.Errorf("421 at %s: %d accepted on %d connections, want 1 on 2", step, a, seen)
		}
		closeWithin(t, s, 5*time.Second)
		if s.open.Load() != 0 {
			t.Errorf("421 at %s: %d connections still counted open", step, s.open.Load())
		}
	}

	// A reused connection meets 421 at MAIL FROM: retried on a fresh one, delivered.
	hs := startHostile(t, func(s string, n int) (string, bool) {
		if s == "MAIL" && n == 1 {
			return "421 4.4.2 idle too long", true
		}
		return "", false
	})
	s, _ := hostileSender(t, hs, Config{})
	for i := range 2 {
		if err := s.Send(context.Background(), testMessage(int64(i), "b@example.com")); err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
	}
	if a, _, seen := hs.counts(); a != 2 || seen != 2 {
		t.Errorf("%d accepted on %d connections, want 2 on 2", a, seen)
	}
}

// A server that answers 250 to the end of DATA and closes at once: each message is sent (the
// 250 counts), and the next one finds the connection dead before its first byte and goes out on
// a fresh connection, with no error.
func TestAttack250ThenClose(t *testing.T) {
	hs := startHostile(t, scriptAt("END", "250 2.0.0 Ok: queued", true))
	s, _ := hostileSender(t, hs, Config{})
	for i := range 4 {
		if err := s.Send(context.Background(), testMessage(int64(i), "b@example.com")); err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
	}
	if a, _, seen := hs.counts(); a != 4 || seen != 4 {
		t.Errorf("%d accepted on %d connections, want 4 on 4", a, seen)
	}
	closeWithin(t, s, 5*time.Second)
}

// A server that sends one reply too many after an end of DATA puts the session out of step: the
// next message must not be reported sent unless the server did accept it.
func TestAttackExtraReplyDesync(t *testing.T) {
	for _, extra := range []string{"250 2.0.0 Ok again", "354 go ahead", "250 2.0.0 Ok\r\n250 2.0.0 Ok\r\n354 go"} {
		hs := startHostile(t, func(s string, n int) (string, bool) {
			if s == "END" && n == 0 {
				return "250 2.0.0 Ok: queued\r\n" + extra, false
			}
			return "", false
		})
		s, _ := hostileSender(t, hs, Config{})
		sent := 0
		for i := range 4 {
			if err := s.Send(context.Background(), testMessage(int64(i), "b@example.com")); err == nil {
				sent++
			}
		}
		time.Sleep(50 * time.Millisecond)
		if a, _, _ := hs.counts(); a != sent {
			t.Errorf("extra %q: Send reported %d sent, the server accepted %d", extra, sent, a)
		}
		closeWithin(t, s, 5*time.Second)
	}
}

// A failing ready abandons the message: the server never sees the end of DATA, the error wraps
// ready's, the connection is dropped, and the Sender goes on with a fresh one.
func TestAttackReadyFailureAbandons(t *testing.T) {
	hs := startHostile(t, nil)
	s, _ := hostileSender(t, hs, Config{Connections: 1})
	errNo := errors.New("previous message not recorded")
	m := testMessage(1, "b@example.com")
	m.Ready = func(context.Context) error { return errNo }
	if err := s.Send(context.Background(), m); !errors.Is(err, errNo) {
		t.Fatalf("Send = %v, want ready's error", err)
	}
	deadline := time.Now().Add(2 * time.Second)
	for hs.open() != 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if a, dots, _ := hs.counts(); a != 0 || dots != 0 || hs.open() != 0 {
		t.Fatalf("after a failed ready: %d accepted, %d ends of DATA, %d connections open; want 0, 0, 0", a, dots, hs.open())
	}
	if err := s.Send(context.Background(), testMessage(2, "b@example.com")); err != nil {
		t.Fatal(err)
	}
	closeWithin(t, s, 5*time.Second)
	if s.open.Load() != 0 || len(s.slots) != 0 {
		t.Errorf("after Close: %d open, %d slots taken", s.open.Load(), len(s.slots))
	}
}

// ctx ends while ready waits (the worker's wait for the previous record): Send returns at once,
// nothing is accepted, and, as Message.Ready and worker.GatedSender promise, the error wraps
// ready's error.
func TestAttackReadyCancelled(t *testing.T) {
	hs := startHostile(t, nil)
	s, _ := hostileSender(t, hs, Config{Connections: 1, Timeout: 10 * time.Second})
	errNotRecorded := errors.New("waiting for the previous message's record")
	m := testMessage(1, "b@example.com")
	m.Ready = func(ctx context.Context) error {
		<-ctx.Done()
		return fmt.Errorf("%w: %w", errNotRecorded, ctx.Err())
	}
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	start := time.Now()
	err := s.Send(ctx, m)
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Send took %s after ctx ended", d)
	}
	if a, dots, _ := hs.counts(); a != 0 || dots != 0 {
		t.Errorf("%d accepted, %d ends of DATA, want none", a, dots)
	}
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Send = %v, want context.Canceled", err)
	}
	if !errors.Is(err, errNotRecorded) {
		t.Errorf("Send = %v: does not wrap ready's error (Message.Ready: \"Send returns an error wrapping it\")", err)
	}
	closeWithin(t, s, 5*time.Second)
}

// The server goes away while ready waits, with or without a word (a 421 unasked, a bare close):
// the message is not reported sent.
func TestAttackServerLeavesDuringReady(t *testing.T) {
	for _, word := range []string{"", "421 4.4.2 hostile.example Error: timeout exceeded"} {
		hs := startHostile(t, nil)
		s, _ := hostileSender(t, hs, Config{})
		m := testMessage(1, "b@example.com")
		m.Ready = func(context.Context) error {
			hs.inject(word, true)
			time.Sleep(50 * time.Millisecond)
			return nil
		}
		err := s.Send(context.Background(), m)
		if err == nil {
			t.Errorf("server left with %q during ready: Send reported the message sent", word)
		}
		if a, _, _ := hs.counts(); a != 0 {
			t.Errorf("server left with %q: %d accepted", word, a)
		}
		if err := s.Send(context.Background(), testMessage(2, "b@example.com")); err != nil {
			t.Errorf("the next message: %v", err)
		}
		closeWithin(t, s, 5*time.Second)
	}
}

// ctx ends while the Sender ends a refused transaction with RSET, and the server never answers
// the RSET: Send must still return promptly, as it does for every other step.
func TestAttackCancelDuringRset(t *testing.T) {
	hs := startHostile(t, func(s string, _ int) (string, bool) {
		switch s {
		case "RCPT":
			return "450 4.2.1 try again later", false
		case "RSET":
			return "STALL", false
		}
		return "", false
	})
	s, _ := hostileSender(t, hs, Config{Timeout: 5 * time.Second})
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(200*time.Millisecond, cancel)
	start := time.Now()
	err := s.Send(ctx, testMessage(1, "b@example.com"))
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Send took %s, though ctx ended after 200ms (err %v)", d, err)
	}
}

// Many messages on few connections against a server that fails in every way, some with a failing
// ready: every Send returns, a message reported sent is one the server accepted, and Close
// returns with no connection left open on either side.
func TestAttackPoolChurnNoLeak(t *testing.T) {
	hs := startHostile(t, func(s string, n int) (string, bool) {
		switch {
		case s == "MAIL" && n%7 == 3:
			return "421 4.3.2 busy", true
		case s == "RCPT" && n%5 == 2:
			return "450 4.2.1 later", false
		case s == "DATA" && n%6 == 4:
			return "", true // close without a word
		case s == "END" && n%4 == 1:
			return "250 2.0.0 Ok", true
		case s == "END" && n%9 == 5:
			return "554 5.7.1 rejected", false
		case s == "RSET" && n%3 == 2:
			return "", true
		}
		return "", false
	})
	s, _ := hostileSender(t, hs, Config{Connections: 3, MaxMessagesPerConn: 3, Timeout: 3 * time.Second})
	var sent atomic.Int64
	var wg sync.WaitGroup
	for i := range 90 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			m := testMessage(int64(i), "b@example.com")
			if i%5 == 0 {
				m.Ready = func(context.Context) error { return errors.New("not recorded") }
			} else if i%5 == 1 {
				m.Ready = func(context.Context) error { time.Sleep(5 * time.Millisecond); return nil }
			}
			if err := s.Send(context.Background(), m); err == nil {
				sent.Add(1)
			}
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("Sends did not all return")
	}
	closeWithin(t, s, 10*time.Second)
	deadline := time.Now().Add(3 * time.Second)
	for hs.open() != 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	a, _, seen := hs.counts()
	if int64(a) != sent.Load() {
		t.Errorf("Send reported %d sent, the server accepted %d", sent.Load(), a)
	}
	if s.open.Load() != 0 || len(s.slots) != 0 || hs.open() != 0 {
		t.Errorf("after Close: sender counts %d open, %d slots taken; server has %d open (of %d)",
			s.open.Load(), len(s.slots), hs.open(), seen)
	}
	t.Logf("%d sent of 90 on %d connections", sent.Load(), seen)
}
