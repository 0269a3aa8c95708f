package mailcatcher_test

import (
	"net"
	"net/smtp"
	"strings"
	"testing"
	"time"

	"github.com/jacksmood/dispatch/internal/mailcatcher"
)

// send sends one message over a connection of its own, with a deadline on the whole exchange.
func send(addr, to string, deadline time.Duration) error {
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		return err
	}
	conn.SetDeadline(time.Now().Add(deadline))
	c, err := smtp.NewClient(conn, "127.0.0.1")
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.Mail("news@jacksmood.example"); err != nil {
		return err
	}
	if err := c.Rcpt(to); err != nil {
		return err
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write([]byte("Subject: hei\r\n\r\nhei\r\n")); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	return c.Quit()
}

func TestChaosFailsEveryNthMessage(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		fault mailcatcher.Fault
		want  string // in the error of a failed message
	}{
		{"451 at RCPT", mailcatcher.Fault{Code: 451, Text: "4.7.1 Try again later"}, "451"},
		{"451 after DATA", mailcatcher.Fault{Code: 451, Text: "4.3.0 Queue full", AtData: true}, "451"},
		{"drop", mailcatcher.Fault{Drop: true}, ""},
		{"stall", mailcatcher.Fault{Stall: time.Minute}, "timeout"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			s, err := mailcatcher.Start("127.0.0.1:0", "", true)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			s.SetChaos(mailcatcher.Chaos{Every: 3, Fault: c.fault})
			var failed []int
			for i := 1; i <= 6; i++ {
				if err := send(s.Addr(), "m@example.com", 500*time.Millisecond); err != nil {
					failed = append(failed, i)
					if !strings.Contains(err.Error(), c.want) {
						t.Errorf("message %d: %v, want an error with %q", i, err, c.want)
					}
				}
			}
			if len(failed) != 2 || failed[0] != 3 || failed[1] != 6 {
				t.Fatalf("messages %v failed, want 3 and 6", failed)
			}
			if s.Faults() != 2 || s.Received() != 4 || len(s.Messages()) != 4 {
				t.Fatalf("%d faults, %d received, %d kept; want 2, 4, 4", s.Faults(), s.Received(), len(s.Messages()))
			}
		})
	}
}

// TestCloseEndsAStall: a server stalling on a message closes at once.
func TestCloseEndsAStall(t *testing.T) {
	t.Parallel()
	s, err := mailcatcher.Start("127.0.0.1:0", "", true)
	if err != nil {
		t.Fatal(err)
	}
	s.FailNext(mailcatcher.Fault{Stall: time.Hour})
	go send(s.Addr(), "m@example.com", time.Hour)
	for s.Faults() == 0 {
		time.Sleep(5 * time.Millisecond)
	}
	done := make(chan struct{})
	go func() { s.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Close waits for the stalled session")
	}
}
