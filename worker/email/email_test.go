package email

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	netmail "net/mail"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	mail "github.com/wneessen/go-mail"
)

const (
	testUnsubscribe     = "<https://x.example/u/TOKEN.abc-123>, <mailto:unsub@x.example?subject=TOKEN.abc-123>"
	testUnsubscribePost = "List-Unsubscribe=One-Click"
)

// logBuffer collects a Sender's log lines, so tests can check that no address leaks into them.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// newSender returns a Sender for ts with cfg's other settings, closed at the end of the test, and
// the buffer its debug logs go to.
func newSender(t testing.TB, ts *testServer, query string, cfg Config) (*Sender, *logBuffer) {
	t.Helper()
	if cfg.URL == "" {
		cfg.URL = "smtp://" + ts.addr + query
	}
	logs := &logBuffer{}
	s, err := New(cfg, slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, logs
}

// testMessage returns a message to to, with delivery id id.
func testMessage(id int64, to string) Message {
	return Message{
		DeliveryID: id,
		To:         to,
		Subject:    "Syksyn etu: -20 % kaikesta – hyvää päivää, Jäätelö & Åke",
		Text:       "Hei Äijä!\n\nTässä syksyn etusi. " + strings.Repeat("Pitkä rivi jossa on ääkkösiä öö åå. ", 5) + "\n\nPeru tilaus: https://x.example/u/TOKEN",
		HTML:       "<html><body><p>Hei <b>Äijä</b>!</p><p>Tässä syksyn etusi.</p><a href=\"https://x.example/u/TOKEN\">Peru tilaus</a></body></html>",
		Headers: map[string]string{
			"List-Unsubscribe":      testUnsubscribe,
			"List-Unsubscribe-Post": testUnsubscribePost,
			"X-Dispatch-Delivery":   fmt.Sprint(id),
		},
		MessageID: fmt.Sprintf("d%d.r4@jacksmood.example", id),
	}
}

func TestSendDeliversMessage(t *testing.T) {
	ts := startServer(t, serverOptions{})
	s, _ := newSender(t, ts, "", Config{})
	m := testMessage(123, "maija.meikalainen@example.com")
	if err := s.Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	msgs := ts.messages()
	if len(msgs) != 1 {
		t.Fatalf("server got %d messages, want 1", len(msgs))
	}
	got := msgs[0]
	if got.From != "news@jacksmood.example" {
		t.Errorf("envelope from = %q", got.From)
	}
	if len(got.To) != 1 || got.To[0] != m.To {
		t.Errorf("envelope to = %q", got.To)
	}
	if !bytes.Contains(got.Data, []byte("\r\nList-Unsubscribe: "+testUnsubscribe+"\r\n")) {
		t.Errorf("List-Unsubscribe not verbatim on one line in:\n%s", got.Data)
	}

	pm, err := netmail.ReadMessage(bytes.NewReader(got.Data))
	if err != nil {
		t.Fatal(err)
	}
	h := pm.Header
	for name, want := range map[string]string{
		"Message-Id":            "<d123.r4@jacksmood.example>",
		"List-Unsubscribe":      testUnsubscribe,
		"List-Unsubscribe-Post": testUnsubscribePost,
		"X-Dispatch-Delivery":   "123",
		"Mime-Version":          "1.0",
	} {
		if got := h.Get(name); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	for _, name := range []string{"User-Agent", "X-Mailer"} {
		if v := h.Get(name); v != "" {
			t.Errorf("unexpected header %s: %q", name, v)
		}
	}
	from, err := h.AddressList("From")
	if err != nil || len(from) != 1 || from[0].Name != "Jack's Mood" || from[0].Address != "news@jacksmood.example" {
		t.Errorf("From = %v, %v", from, err)
	}
	to, err := h.AddressList("To")
	if err != nil || len(to) != 1 || to[0].Address != m.To {
		t.Errorf("To = %v, %v", to, err)
	}
	if date, err := h.Date(); err != nil || time.Since(date) > time.Minute {
		t.Errorf("Date = %v, %v", date, err)
	}
	rawSubject := h.Get("Subject")
	if !isPrintableASCII(rawSubject) {
		t.Errorf("Subject not encoded: %q", rawSubject)
	}
	subject, err := new(mime.WordDecoder).DecodeHeader(rawSubject)
	if err != nil || subject != m.Subject {
		t.Errorf("Subject decodes to %q (%v), want %q", subject, err, m.Subject)
	}

	mediaType, params, err := mime.ParseMediaType(h.Get("Content-Type"))
	if err != nil || mediaType != "multipart/alternative" {
		t.Fatalf("Content-Type = %q (%v)", h.Get("Content-Type"), err)
	}
	mr := multipart.NewReader(pm.Body, params["boundary"])
	for i, want := range []struct{ typ, body string }{{"text/plain", m.Text}, {"text/html", m.HTML}} {
		p, err := mr.NextRawPart()
		if err != nil {
			t.Fatalf("part %d: %v", i, err)
		}
		typ, tparams, _ := mime.ParseMediaType(p.Header.Get("Content-Type"))
		if typ != want.typ || !strings.EqualFold(tparams["charset"], "utf-8") {
			t.Errorf("part %d Content-Type = %q, want %s; charset=UTF-8", i, p.Header.Get("Content-Type"), want.typ)
		}
		if cte := p.Header.Get("Content-Transfer-Encoding"); cte != "quoted-printable" {
			t.Errorf("part %d Content-Transfer-Encoding = %q", i, cte)
		}
		body, err := io.ReadAll(quotedprintable.NewReader(p))
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.ReplaceAll(string(body), "\r\n", "\n"); got != want.body {
			t.Errorf("part %d body = %q, want %q", i, got, want.body)
		}
	}
	if _, err := mr.NextRawPart(); err != io.EOF {
		t.Errorf("more than two parts: %v", err)
	}
}

func TestSendReusesConnections(t *testing.T) {
	ts := startServer(t, serverOptions{})
	s, _ := newSender(t, ts, "", Config{Connections: 4})
	jobs := make(chan int64, 100)
	for i := range int64(100) {
		jobs <- i + 1
	}
	close(jobs)
	var wg sync.WaitGroup
	var failed atomic.Int64
	for range 8 {
		wg.Go(func() {
			for id := range jobs {
				if err := s.Send(context.Background(), testMessage(id, fmt.Sprintf("m%d@example.com", id))); err != nil {
					t.Error(err)
					failed.Add(1)
				}
			}
		})
	}
	wg.Wait()
	if n := len(ts.messages()); n != 100 {
		t.Errorf("server got %d messages, want 100", n)
	}
	seen := map[string]bool{}
	for _, m := range ts.messages() {
		seen[m.To[0]] = true
	}
	if len(seen) != 100 {
		t.Errorf("%d distinct recipients, want 100", len(seen))
	}
	if n := ts.connections(); n < 1 || n > 4 {
		t.Errorf("server saw %d connections, want 1..4", n)
	}
}

func TestTransientRcptThenRetry(t *testing.T) {
	ts := startServer(t, serverOptions{})
	s, _ := newSender(t, ts, "", Config{})
	ts.answerRcpt(&smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 7, 1}, Message: "Greylisted, try again later"})
	m := testMessage(1, "grey@example.com")
	err := s.Send(context.Background(), m)
	if err == nil {
		t.Fatal("Send succeeded, want a 451 error")
	}
	if errors.Is(err, ErrPermanent) {
		t.Errorf("451 is permanent: %v", err)
	}
	var re *ReplyError
	if !errors.As(err, &re) || re.Code != 451 || re.Command != "RCPT TO" {
		t.Errorf("error %v (%#v), want a ReplyError 451 at RCPT TO", err, re)
	}
	if err := s.Send(context.Background(), m); err != nil {
		t.Fatalf("retry: %v", err)
	}
	if n := len(ts.messages()); n != 1 {
		t.Errorf("server got %d messages, want exactly 1", n)
	}
	if n := ts.connections(); n != 1 {
		t.Errorf("server saw %d connections, want 1: the session is reset and reused after a 451", n)
	}
}

func TestPermanentRcptHidesAddress(t *testing.T) {
	ts := startServer(t, serverOptions{})
	s, logs := newSender(t, ts, "", Config{})
	const to = "Bob.Smith+news@example.com"
	ts.answerRcpt(&smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1},
		Message: "<bob.smith+news@example.com>: Recipient address rejected: User unknown (Bob.Smith+news@example.com)"})
	err := s.Send(context.Background(), testMessage(7, to))
	if err == nil {
		t.Fatal("Send succeeded, want 550")
	}
	if !errors.Is(err, ErrPermanent) {
		t.Errorf("550 at RCPT is not permanent: %v", err)
	}
	msg := err.Error()
	if msg != "smtp RCPT TO refused: 550 5.1.1 permanent: addressing" {
		t.Errorf("error %q, want the reply's codes and their meaning", msg)
	}
	if strings.Contains(strings.ToLower(msg), "bob") || strings.Contains(msg, "@") || strings.Contains(msg, "unknown") {
		t.Errorf("error %q keeps the server's free text", msg)
	}
	var re *ReplyError
	if !errors.As(err, &re) || !re.RecipientRefused() {
		t.Errorf("error %v is not a refused recipient", err)
	}
	if strings.Contains(strings.ToLower(logs.String()), "bob.smith") {
		t.Errorf("logs name the recipient:\n%s", logs)
	}
	if n := len(ts.messages()); n != 0 {
		t.Errorf("server got %d messages, want 0", n)
	}
}

func TestPermanentDataRefusal(t *testing.T) {
	ts := startServer(t, serverOptions{})
	s, _ := newSender(t, ts, "", Config{})
	ts.answerData(&smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 7, 1}, Message: "Message rejected as spam"})
	err := s.Send(context.Background(), testMessage(1, "a@example.com"))
	if !errors.Is(err, ErrPermanent) || !strings.Contains(fmt.Sprint(err), "554") {
		t.Fatalf("Send = %v, want a permanent 554", err)
	}
	var re *ReplyError
	if !errors.As(err, &re) || re.RecipientRefused() {
		t.Errorf("a refused message is taken for a refused recipient: %#v", re)
	}
	if err := s.Send(context.Background(), testMessage(2, "b@example.com")); err != nil {
		t.Fatal(err)
	}
	if n := ts.connections(); n != 1 {
		t.Errorf("server saw %d connections, want 1", n)
	}
}

func TestMailFromRefusalIsNotPermanent(t *testing.T) {
	ts := startServer(t, serverOptions{user: "jack", pass: "secret"})
	// No credentials: the server answers MAIL FROM with 502 "Please authenticate first".
	s, _ := newSender(t, ts, "", Config{})
	err := s.Send(context.Background(), testMessage(1, "a@example.com"))
	if err == nil || errors.Is(err, ErrPermanent) {
		t.Fatalf("Send = %v, want a non-permanent refusal of the sender", err)
	}
}

func TestDroppedConnectionMidData(t *testing.T) {
	ts := startServer(t, serverOptions{})
	s, logs := newSender(t, ts, "", Config{})
	if err := s.Send(context.Background(), testMessage(1, "first@example.com")); err != nil {
		t.Fatal(err)
	}
	ts.dropNextData()
	err := s.Send(context.Background(), testMessage(2, "dropped@example.com"))
	if err == nil {
		t.Fatal("Send succeeded over a dropped connection")
	}
	if errors.Is(err, ErrPermanent) {
		t.Errorf("dropped connection is permanent: %v", err)
	}
	if strings.Contains(err.Error(), "dropped@") {
		t.Errorf("error %q names the recipient", err)
	}
	if err := s.Send(context.Background(), testMessage(3, "third@example.com")); err != nil {
		t.Fatalf("Send after the drop: %v", err)
	}
	if n := len(ts.messages()); n != 2 {
		t.Errorf("server got %d messages, want 2", n)
	}
	if n := ts.connections(); n != 2 {
		t.Errorf("server saw %d connections, want 2 (a fresh one after the drop)", n)
	}
	if strings.Contains(logs.String(), "@example.com") {
		t.Errorf("logs name a recipient:\n%s", logs)
	}
}

func TestIdleConnectionDroppedByServer(t *testing.T) {
	ts := startServer(t, serverOptions{})
	s, _ := newSender(t, ts, "", Config{})
	if err := s.Send(context.Background(), testMessage(1, "a@example.com")); err != nil {
		t.Fatal(err)
	}
	ts.dropAll()
	time.Sleep(50 * time.Millisecond)
	// The pooled connection is dead before a byte of the message went out: Send dials afresh.
	if err := s.Send(context.Background(), testMessage(2, "b@example.com")); err != nil {
		t.Fatalf("Send after the server dropped the idle connection: %v", err)
	}
	if n := len(ts.messages()); n != 2 {
		t.Errorf("server got %d messages, want 2", n)
	}
}

func TestSendCancelled(t *testing.T) {
	ts := startServer(t, serverOptions{})
	s, _ := newSender(t, ts, "", Config{})
	ts.stallData()
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := s.Send(ctx, testMessage(1, "a@example.com"))
	if !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, ErrPermanent) {
		t.Errorf("Send = %v, want a transient deadline error", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Send took %s after its context ended", d)
	}
	ts.release()
	if err := s.Send(context.Background(), testMessage(2, "b@example.com")); err != nil {
		t.Fatalf("Send after a cancelled one: %v", err)
	}
}

func TestRecyclesConnections(t *testing.T) {
	t.Run("after MaxMessagesPerConn", func(t *testing.T) {
		ts := startServer(t, serverOptions{})
		s, _ := newSender(t, ts, "", Config{Connections: 1, MaxMessagesPerConn: 3})
		for i := range int64(7) {
			if err := s.Send(context.Background(), testMessage(i, "a@example.com")); err != nil {
				t.Fatal(err)
			}
		}
		if n := ts.connections(); n != 3 {
			t.Errorf("server saw %d connections for 7 messages at 3 a connection, want 3", n)
		}
	})
	t.Run("after IdleTimeout", func(t *testing.T) {
		ts := startServer(t, serverOptions{})
		s, _ := newSender(t, ts, "", Config{IdleTimeout: 50 * time.Millisecond})
		if err := s.Send(context.Background(), testMessage(1, "a@example.com")); err != nil {
			t.Fatal(err)
		}
		time.Sleep(200 * time.Millisecond)
		s.mu.Lock()
		idle := len(s.idle)
		s.mu.Unlock()
		if idle != 0 {
			t.Errorf("%d idle connections left after IdleTimeout", idle)
		}
		if err := s.Send(context.Background(), testMessage(2, "a@example.com")); err != nil {
			t.Fatal(err)
		}
		if n := ts.connections(); n != 2 {
			t.Errorf("server saw %d connections, want 2", n)
		}
	})
}

func TestStartTLS(t *testing.T) {
	insecure := &tls.Config{InsecureSkipVerify: true}
	for _, tc := range []struct {
		name     string
		offer    bool
		query    string
		tlsConf  *tls.Config
		wantTLS  bool
		wantFail string
	}{
		{name: "required, not offered", query: "?starttls=required", wantFail: "STARTTLS"},
		{name: "required, offered", offer: true, query: "?starttls=required", tlsConf: insecure, wantTLS: true},
		{name: "default is opportunistic, offered", offer: true, tlsConf: insecure, wantTLS: true},
		{name: "opportunistic, not offered", query: "?starttls=opportunistic", wantTLS: false},
		{name: "off, offered", offer: true, query: "?starttls=off", wantTLS: false},
		{name: "required, self-signed certificate not trusted", offer: true, query: "?starttls=required", wantFail: "certificate"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ts := startServer(t, serverOptions{startTLS: tc.offer})
			s, _ := newSender(t, ts, tc.query, Config{TLSConfig: tc.tlsConf})
			err := s.Send(context.Background(), testMessage(1, "a@example.com"))
			if tc.wantFail != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantFail) || errors.Is(err, ErrPermanent) {
					t.Fatalf("Send = %v, want a transient error about %s", err, tc.wantFail)
				}
				if n := len(ts.messages()); n != 0 {
					t.Errorf("server got %d messages, want 0", n)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			msgs := ts.messages()
			if len(msgs) != 1 || msgs[0].TLS != tc.wantTLS {
				t.Fatalf("messages %d, TLS %v; want 1, TLS %v", len(msgs), len(msgs) == 1 && msgs[0].TLS, tc.wantTLS)
			}
		})
	}
}

func TestImplicitTLS(t *testing.T) {
	ts := startServer(t, serverOptions{implicitTLS: true, user: "jack", pass: "p@ss:wörd"})
	s, _ := newSender(t, ts, "", Config{
		URL:       "smtps://jack:p%40ss%3Aw%C3%B6rd@" + ts.addr,
		TLSConfig: &tls.Config{InsecureSkipVerify: true},
	})
	if err := s.Send(context.Background(), testMessage(1, "a@example.com")); err != nil {
		t.Fatal(err)
	}
	msgs := ts.messages()
	if len(msgs) != 1 || !msgs[0].TLS || msgs[0].User != "jack" {
		t.Fatalf("got %+v, want one message over TLS from jack", msgs)
	}
}

func TestAuthPlain(t *testing.T) {
	ts := startServer(t, serverOptions{user: "jack", pass: "s3cret"})
	s, _ := newSender(t, ts, "", Config{URL: "smtp://jack:s3cret@" + ts.addr})
	if err := s.Send(context.Background(), testMessage(1, "a@example.com")); err != nil {
		t.Fatal(err)
	}
	msgs := ts.messages()
	if len(msgs) != 1 || msgs[0].User != "jack" {
		t.Fatalf("got %+v, want one message from the authenticated user jack", msgs)
	}

	bad, _ := newSender(t, ts, "", Config{URL: "smtp://jack:wrong-password@" + ts.addr})
	err := bad.Send(context.Background(), testMessage(2, "b@example.com"))
	if err == nil || errors.Is(err, ErrPermanent) {
		t.Fatalf("Send with a wrong password = %v, want a transient error", err)
	}
	if !strings.Contains(err.Error(), "535") || strings.Contains(err.Error(), "wrong-password") {
		t.Errorf("error %q: want the server's 535, without the password", err)
	}
	if n := len(ts.messages()); n != 1 {
		t.Errorf("server got %d messages, want 1", n)
	}
}

func TestDialError(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	s, _ := newSender(t, nil, "", Config{URL: "smtp://" + addr})
	err = s.Send(context.Background(), testMessage(1, "a@example.com"))
	if err == nil || errors.Is(err, ErrPermanent) || !strings.Contains(err.Error(), "connect") {
		t.Fatalf("Send to a closed port = %v, want a transient connect error", err)
	}
}

func TestComposeRefusesBadMessages(t *testing.T) {
	ts := startServer(t, serverOptions{})
	s, _ := newSender(t, ts, "", Config{})
	for name, mutate := range map[string]func(*Message){
		"bad address":        func(m *Message) { m.To = "not an address@@example.com" },
		"no Message-ID":      func(m *Message) { m.MessageID = "" },
		"bracketed id":       func(m *Message) { m.MessageID = "<d1@x>" },
		"header injection":   func(m *Message) { m.Headers["X-Test"] = "a\r\nBcc: evil@example.com" },
		"reserved header":    func(m *Message) { m.Headers["message-id"] = "<x@y>" },
		"bad header name":    func(m *Message) { m.Headers["Bad Name"] = "x" },
		"header name colon":  func(m *Message) { m.Headers["X:Y"] = "x" },
		"empty header name":  func(m *Message) { m.Headers[""] = "x" },
		"sender-set subject": func(m *Message) { m.Headers["Subject"] = "x" },
	} {
		t.Run(name, func(t *testing.T) {
			m := testMessage(1, "a@example.com")
			mutate(&m)
			err := s.Send(context.Background(), m)
			if !errors.Is(err, ErrPermanent) {
				t.Errorf("Send = %v, want ErrPermanent", err)
			}
			if err != nil && strings.Contains(err.Error(), "example.com") {
				t.Errorf("error %q names the recipient", err)
			}
		})
	}
	if n := len(ts.messages()); n != 0 {
		t.Errorf("server got %d messages, want 0", n)
	}
}

func TestSendAfterClose(t *testing.T) {
	ts := startServer(t, serverOptions{})
	s, _ := newSender(t, ts, "", Config{})
	if err := s.Send(context.Background(), testMessage(1, "a@example.com")); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Send(context.Background(), testMessage(2, "a@example.com")); !errors.Is(err, ErrClosed) {
		t.Errorf("Send after Close = %v, want ErrClosed", err)
	}
	if n := s.open.Load(); n != 0 {
		t.Errorf("%d connections open after Close", n)
	}
}

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		url, want string
	}{
		{"http://127.0.0.1:25", "scheme must be smtp or smtps"},
		{"127.0.0.1:25", "must look like smtp://"},
		{"smtp://127.0.0.1:25?starttls=maybe", "starttls must be required, opportunistic or off"},
		{"smtp://:25", "missing host"},
		{"smtp:///", "missing host"},
		{"smtp://127.0.0.1:99999", "port"},
		{"smtp://127.0.0.1:25?tls=on", "unknown parameter"},
		{"smtps://127.0.0.1?starttls=off", "does not apply to smtps"},
		{"smtp://jack@127.0.0.1:25", "user:password"},
		{"smtp://jack:hunter2@127.0.0.1:25/path", "no path"},
		{"smtp://jack:hunter2@[::1:25", "not a valid URL"},
	} {
		cfg := Config{URL: tc.url}
		err := cfg.Validate()
		if err == nil {
			t.Errorf("%q: no error", tc.url)
			continue
		}
		if !strings.HasPrefix(err.Error(), "DISPATCH_SMTP_URL: ") || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: error %q, want DISPATCH_SMTP_URL: ...%s...", tc.url, err, tc.want)
		}
		if strings.Contains(err.Error(), "hunter2") {
			t.Errorf("%q: error %q repeats the password", tc.url, err)
		}
	}

	cfg := Config{From: "not an address"}
	if err := cfg.Validate(); err == nil || !strings.HasPrefix(err.Error(), "DISPATCH_MAIL_FROM: ") {
		t.Errorf("bad From: %v", err)
	}

	cfg = Config{}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	if cfg.URL != DefaultURL || cfg.From != DefaultFrom || cfg.Connections != 10 || cfg.Timeout != 30*time.Second ||
		cfg.IdleTimeout != 30*time.Second || cfg.MaxMessagesPerConn != 1000 {
		t.Errorf("defaults: %+v", cfg)
	}
	for _, tc := range []struct {
		url      string
		want     endpoint
		wantMode string
	}{
		{"smtp://mail.example.com", endpoint{host: "mail.example.com", port: 25}, "starttls-opportunistic"},
		{"smtp://u:p@mail.example.com:587?starttls=required", endpoint{host: "mail.example.com", port: 587, user: "u", pass: "p"}, "starttls-required"},
		{"smtp://127.0.0.1:1025?starttls=off", endpoint{host: "127.0.0.1", port: 1025}, "off"},
		{"smtps://mail.example.com", endpoint{host: "mail.example.com", port: 465, implicitTLS: true}, "implicit"},
	} {
		ep, err := parseURL(tc.url)
		if err != nil {
			t.Errorf("%q: %v", tc.url, err)
			continue
		}
		if ep.host != tc.want.host || ep.port != tc.want.port || ep.implicitTLS != tc.want.implicitTLS ||
			ep.user != tc.want.user || ep.pass != tc.want.pass || ep.tlsMode() != tc.wantMode {
			t.Errorf("%q: got %+v (%s), want %+v (%s)", tc.url, ep, ep.tlsMode(), tc.want, tc.wantMode)
		}
	}
}

func TestRedact(t *testing.T) {
	for _, tc := range []struct{ in, to, want string }{
		{"550 5.1.1 <bob@example.com>: unknown", "bob@example.com", "550 5.1.1 <recipient>: unknown"},
		{"550 no such user BOB@EXAMPLE.COM here", "bob@example.com", "550 no such user <recipient> here"},
		{"550 \"john doe\"@example.com unknown", "\"john doe\"@example.com", "550 <recipient> unknown"},
		{"550 other@example.org refused", "bob@example.com", "550 <recipient> refused"},
		{"550 mailbox bob unavailable\nsee https://help.example.com", "Bob <bob@example.com>", "550 mailbox bob unavailable see https://help.example.com"},
	} {
		if got := redact(tc.in, tc.to); got != tc.want {
			t.Errorf("redact(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// benchMessage is a message of about 5 KB on the wire.
func benchMessage() Message {
	m := testMessage(1, "bench@example.com")
	m.Text = strings.Repeat("Hyvää syksyä! Tässä on tarjouksesi, joka on voimassa kuukauden. ", 30)
	m.HTML = "<html><body><p>" + strings.Repeat("Hyvää syksyä! Tässä on <b>tarjouksesi</b>. ", 40) + "</p></body></html>"
	return m
}

// BenchmarkSend sends messages of about 5 KB over 20 connections to the in-process server, from
// as many goroutines, and reports messages per second. The server shares the machine's cores.
func BenchmarkSend(b *testing.B) {
	ts := startServer(b, serverOptions{counting: true})
	s, _ := newSender(b, ts, "", Config{Connections: 20})
	m := benchMessage()
	var id atomic.Int64
	b.SetParallelism(10) // 10 × GOMAXPROCS goroutines: at least 20 on two cores
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		m := m
		for pb.Next() {
			m.DeliveryID = id.Add(1)
			if err := s.Send(context.Background(), m); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
	if got := ts.delivered(); got != b.N {
		b.Errorf("server got %d messages, want %d", got, b.N)
	}
}

func TestReplyText(t *testing.T) {
	ts := startServer(t, serverOptions{})
	s, _ := newSender(t, ts, "", Config{})
	// The audit's finding: a server that names the mailbox in its reply. Only the codes are kept.
	ts.answerRcpt(&smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "No such user (b2.maija.virtanen)"})
	err := s.Send(context.Background(), testMessage(1, "maija.virtanen@example.com"))
	if want := `smtp RCPT TO refused: 550 5.1.1 permanent: addressing`; fmt.Sprint(err) != want {
		t.Errorf("error %q, want %q", err, want)
	}
	for code, want := range map[string]string{"451 4.7.1": "451 4.7.1 transient: security or policy", "552 5.2.2": "552 5.2.2 permanent: mailbox",
		"554 5.9.9": "554 5.9.9 permanent", "421 ": "421 transient"} {
		var c int
		fmt.Sscanf(code, "%d", &c)
		if got := replyCodes(c, strings.TrimSpace(code[4:])); got != want {
			t.Errorf("replyCodes(%s) = %q, want %q", code, got, want)
		}
	}
}

// BenchmarkBareGoMail is the reference for BenchmarkSend: go-mail's own loop, one client a
// connection on 20 connections, default options (NOOP and RSET around each message), no pool.
func BenchmarkBareGoMail(b *testing.B) {
	ts := startServer(b, serverOptions{counting: true})
	host, port, _ := net.SplitHostPort(ts.addr)
	portNum, _ := strconv.Atoi(port)
	m := benchMessage()
	from, _ := netmail.ParseAddress(DefaultFrom)
	clients := make(chan *mail.Client, 20)
	for range 20 {
		c, err := mail.NewClient(host, mail.WithPort(portNum), mail.WithTLSPolicy(mail.NoTLS))
		if err != nil {
			b.Fatal(err)
		}
		if err := c.DialWithContext(context.Background()); err != nil {
			b.Fatal(err)
		}
		defer c.Close()
		clients <- c
	}
	b.SetParallelism(10)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			msg := mail.NewMsg()
			msg.FromMailAddress(from)
			if err := msg.To(m.To); err != nil {
				b.Error(err)
				return
			}
			msg.SetMessageIDWithValue(m.MessageID)
			msg.SetDate()
			msg.Subject(m.Subject)
			for k, v := range m.Headers {
				msg.SetGenHeader(mail.Header(k), v)
			}
			msg.SetBodyString(mail.TypeTextPlain, m.Text)
			msg.AddAlternativeString(mail.TypeTextHTML, m.HTML)
			c := <-clients
			err := c.Send(msg)
			clients <- c
			if err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}

// Message.Ready holds the end of DATA: the server has the envelope and the content, and takes the
// message only once Ready returns. A Ready that fails abandons the message: the server never takes
// it, and the next message goes out on a fresh connection.
func TestReadyHoldsTheEndOfData(t *testing.T) {
	ts := startServer(t, serverOptions{})
	s, _ := newSender(t, ts, "", Config{Connections: 1})
	release := make(chan struct{})
	inReady := make(chan struct{})
	m := testMessage(1, "a@example.com")
	m.Ready = func(context.Context) error {
		close(inReady)
		<-release
		return nil
	}
	done := make(chan error, 1)
	go func() { done <- s.Send(context.Background(), m) }()
	<-inReady
	time.Sleep(50 * time.Millisecond) // time for the server to have taken a message it had whole
	if n := len(ts.messages()); n != 0 {
		t.Fatalf("the server took %d messages before Ready returned", n)
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatalf("Send: %v", err)
	}
	if got := ts.messages(); len(got) != 1 || !bytes.Contains(got[0].Data, []byte("<d1.r4@jacksmood.example>")) {
		t.Fatalf("the server got %d messages after Ready returned, want the one held", len(got))
	}

	notReady := errors.New("the previous message is not recorded")
	m = testMessage(2, "b@example.com")
	m.Ready = func(context.Context) error { return notReady }
	if err := s.Send(context.Background(), m); !errors.Is(err, notReady) {
		t.Fatalf("Send with a failing Ready = %v, want its error", err)
	}
	if err := s.Send(context.Background(), testMessage(3, "c@example.com")); err != nil {
		t.Fatalf("Send after an abandoned message: %v", err)
	}
	got := ts.messages()
	if len(got) != 2 || bytes.Contains(got[1].Data, []byte("d2.r4")) {
		t.Fatalf("the server got %d messages, want 2, the abandoned one not among them", len(got))
	}
	if n := ts.connections(); n != 2 {
		t.Fatalf("%d connections, want 2: the abandoned message's is dropped", n)
	}
}
