package email

import (
	"context"
	"errors"
	"fmt"
	netmail "net/mail"
	"net/textproto"
	"regexp"
	"strconv"
	"strings"

	mail "github.com/wneessen/go-mail"
)

// ErrPermanent marks a failure that retrying cannot mend: the server refused the recipient or the
// message with a 5xx reply, or the message itself is malformed (a recipient address that does not
// parse, a bad header). Test with errors.Is(err, email.ErrPermanent).
var ErrPermanent = errors.New("permanent")

// Message is one email to send. It holds only what the message needs. To is personal data: it
// appears in no log line and no error.
type Message struct {
	// DeliveryID names the delivery in logs (ids only).
	DeliveryID int64
	// To is the recipient's address.
	To string
	// Subject is the subject, UTF-8; encoded (RFC 2047) when it is not plain ASCII.
	Subject string
	// Text and HTML are the bodies, UTF-8, sent quoted-printable as multipart/alternative with
	// text/plain first; when one of them is empty the other is sent alone.
	Text, HTML string
	// Headers are extra header fields written verbatim, e.g. List-Unsubscribe,
	// List-Unsubscribe-Post, X-Dispatch-Delivery. A value that is not plain ASCII is RFC 2047 encoded.
	// The fields the Sender writes itself (From, To, Cc, Bcc, Subject, Date, Message-ID, MIME-Version,
	// Content-Type, Content-Transfer-Encoding) cannot be given here.
	Headers map[string]string
	// MessageID is the Message-ID without angle brackets, e.g. "d123.r4@jacksmood.example".
	// Required.
	MessageID string
	// Ready, when set, is called once the content is written and before the end of DATA, by which
	// the server takes the message; an error from it abandons the message (the connection is
	// dropped) and Send returns an error wrapping it.
	Ready func(context.Context) error
}

// ReplyError is an SMTP server's refusal: the command it answered, its reply code, and its reply
// text with everything that looks like an email address replaced by "<recipient>". It wraps
// ErrPermanent when Permanent reports true.
type ReplyError struct {
	// Command is the SMTP step refused: "MAIL FROM", "RCPT TO", "DATA" or "end of DATA".
	Command string
	// Code is the reply code, e.g. 451 or 550.
	Code int
	// Reply is the server's reply, code first, addresses redacted.
	Reply string
}

// Error returns "smtp COMMAND refused: REPLY".
func (e *ReplyError) Error() string {
	return "smtp " + e.Command + " refused: " + e.Reply
}

// Permanent reports whether the refusal is final: a 5xx reply about the recipient or the message
// (RCPT TO or DATA). A 5xx reply to MAIL FROM concerns the sender, which is configuration, not the
// member: it is not permanent for the message, so the message is retried once that is fixed.
func (e *ReplyError) Permanent() bool {
	return e.Code >= 500 && e.Code < 600 && e.Command != "MAIL FROM"
}

// RecipientRefused reports whether the server refused the recipient's address permanently (a 5xx
// reply to RCPT TO): a hard bounce.
func (e *ReplyError) RecipientRefused() bool {
	return e.Permanent() && e.Command == "RCPT TO"
}

// Unwrap returns ErrPermanent for a permanent refusal, else nil.
func (e *ReplyError) Unwrap() error {
	if e.Permanent() {
		return ErrPermanent
	}
	return nil
}

// reserved are the header fields that compose writes itself.
var reserved = map[string]bool{
	"From": true, "To": true, "Cc": true, "Bcc": true, "Subject": true, "Date": true,
	"Message-Id": true, "Mime-Version": true, "Content-Type": true, "Content-Transfer-Encoding": true,
}

// compose builds the go-mail message for m. Its errors wrap ErrPermanent (the message can never be
// sent as it is) and never quote m.To.
func (s *Sender) compose(m Message) (*mail.Msg, error) {
	if m.MessageID == "" || !strings.Contains(m.MessageID, "@") || strings.ContainsAny(m.MessageID, "<> \t\r\n") {
		return nil, fmt.Errorf("compose email: Message-ID %q is not of the form id@domain: %w", m.MessageID, ErrPermanent)
	}
	msg := mail.NewMsg(mail.WithNoDefaultUserAgent())
	msg.FromMailAddress(s.from)
	if err := msg.To(m.To); err != nil {
		// go-mail's error quotes the address: say only that it is bad.
		return nil, fmt.Errorf("compose email: recipient address does not parse: %w", ErrPermanent)
	}
	msg.SetMessageIDWithValue(m.MessageID)
	msg.SetDate()
	msg.Subject(m.Subject)
	for key, value := range m.Headers {
		if !validHeaderKey(key) {
			return nil, fmt.Errorf("compose email: header name %q is not valid: %w", key, ErrPermanent)
		}
		if reserved[textproto.CanonicalMIMEHeaderKey(key)] {
			return nil, fmt.Errorf("compose email: header %s is written by the sender, not by Headers: %w", key, ErrPermanent)
		}
		if strings.ContainsAny(value, "\r\n") {
			return nil, fmt.Errorf("compose email: header %s has a line break: %w", key, ErrPermanent)
		}
		if isPrintableASCII(value) {
			msg.SetGenHeaderPreformatted(mail.Header(key), value)
		} else {
			msg.SetGenHeader(mail.Header(key), value)
		}
	}
	switch {
	case m.Text != "" && m.HTML != "":
		msg.SetBodyString(mail.TypeTextPlain, m.Text)
		msg.AddAlternativeString(mail.TypeTextHTML, m.HTML)
	case m.HTML != "":
		msg.SetBodyString(mail.TypeTextHTML, m.HTML)
	default:
		msg.SetBodyString(mail.TypeTextPlain, m.Text)
	}
	return msg, nil
}

// validHeaderKey reports whether key is an RFC 5322 field name: printable ASCII but ':'.
func validHeaderKey(key string) bool {
	if key == "" {
		return false
	}
	for i := 0; i < len(key); i++ {
		if b := key[i]; b < '!' || b > '~' || b == ':' {
			return false
		}
	}
	return true
}

// isPrintableASCII reports whether v needs no RFC 2047 encoding.
func isPrintableASCII(v string) bool {
	for i := 0; i < len(v); i++ {
		if b := v[i]; (b < ' ' || b > '~') && b != '\t' {
			return false
		}
	}
	return true
}

// commandOf names the SMTP step of a go-mail send error.
func commandOf(r mail.SendErrReason) string {
	switch r {
	case mail.ErrSMTPMailFrom:
		return "MAIL FROM"
	case mail.ErrSMTPRcptTo:
		return "RCPT TO"
	case mail.ErrSMTPData:
		return "DATA"
	case mail.ErrSMTPDataClose:
		return "end of DATA"
	case mail.ErrWriteContent:
		return "message content"
	case mail.ErrConnCheck:
		return "connection check"
	case mail.ErrSMTPReset:
		return "RSET"
	}
	return "send"
}

// addressLike matches what looks like an email address, with its angle brackets if any: servers
// echo the recipient in their replies ("550 5.1.1 <bob@example.com>: Recipient address rejected").
var addressLike = regexp.MustCompile(`<?(?:"[^"]*"|[^\s<>()\[\],;:"@]+)@[^\s<>()\[\],;:"@]*>?`)

// maxReply bounds the reply text kept in an error.
const maxReply = 300

// replyText describes the failure of a step of a send (err, the step's error) by the server's
// reply codes alone: the reply code, the enhanced status code (RFC 3463) when the reply starts with
// one of its class, and what its class and subject say ("550 5.1.1 permanent: addressing"). The
// reply's free text is never kept, nor is a reply that is not a 4xx or 5xx where one was due ("250
// unexpected reply") or a line that is no reply at all: servers echo the recipient's address, name
// or mailbox in their text ("No such user (b2.maija.virtanen)"), and it would outlive the member's
// erasure in the ledger and in logs. Without a reply (a dropped connection), what went wrong,
// redacted.
func replyText(err error, to string) string {
	var te *textproto.Error
	if errors.As(err, &te) {
		if te.Code < 400 || te.Code >= 600 {
			return fmt.Sprintf("%d unexpected reply", te.Code)
		}
		return replyCodes(te.Code, enhancedCode(te.Code, te.Msg))
	}
	var pe textproto.ProtocolError
	if errors.As(err, &pe) {
		return "malformed reply"
	}
	return redact(err.Error(), to)
}

// enhancedRE matches an enhanced status code of RFC 3463 (class.subject.detail) at the start of a
// reply's text.
var enhancedRE = regexp.MustCompile(`^([245])\.\d{1,3}\.\d{1,3}(?:\s|$)`)

// enhancedCode is the enhanced status code that starts the reply's text msg, if its class is the
// reply code's: digits elsewhere in the text (an address "maija.4.12.88@…") are not one.
func enhancedCode(code int, msg string) string {
	m := enhancedRE.FindStringSubmatch(msg)
	if m == nil || m[1] != strconv.Itoa(code/100) {
		return ""
	}
	return strings.TrimSpace(m[0])
}

// replyCodes writes a reply by its codes: "451 4.7.1 transient: security or policy".
func replyCodes(code int, enh string) string {
	class := "transient"
	if code >= 500 {
		class = "permanent"
	}
	if enh == "" {
		return fmt.Sprintf("%d %s", code, class)
	}
	subject := map[string]string{"0": "other", "1": "addressing", "2": "mailbox", "3": "mail system",
		"4": "network or routing", "5": "mail protocol", "6": "message content", "7": "security or policy"}
	parts := strings.SplitN(enh, ".", 3)
	if what, ok := subject[parts[1]]; ok {
		return fmt.Sprintf("%d %s %s: %s", code, enh, class, what)
	}
	return fmt.Sprintf("%d %s %s", code, enh, class)
}

// redact removes the recipient's address, and anything else that looks like an address, from s,
// folds its lines and bounds its length.
func redact(s, to string) string {
	s = addressLike.ReplaceAllString(s, "<recipient>")
	if to != "" {
		// Whatever the pattern missed of the address itself.
		s = replaceFold(s, to, "<recipient>")
		if addr, err := parseAddr(to); err == nil && addr != to {
			s = replaceFold(s, addr, "<recipient>")
		}
	}
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > maxReply {
		s = strings.ToValidUTF8(s[:maxReply], "") + "..."
	}
	return s
}

// parseAddr returns the addr-spec of an address that may carry a display name.
func parseAddr(to string) (string, error) {
	a, err := netmail.ParseAddress(to)
	if err != nil {
		return "", err
	}
	return a.Address, nil
}

// replaceFold replaces every case-insensitive occurrence of old in s.
func replaceFold(s, old, repl string) string {
	if old == "" {
		return s
	}
	lower, lowerOld := strings.ToLower(s), strings.ToLower(old)
	if len(lower) != len(s) || len(lowerOld) != len(old) {
		// Case folding changed byte lengths (rare non-ASCII): fall back to an exact match.
		return strings.ReplaceAll(s, old, repl)
	}
	var b strings.Builder
	for {
		i := strings.Index(lower, lowerOld)
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		b.WriteString(s[:i])
		b.WriteString(repl)
		s, lower = s[i+len(old):], lower[i+len(old):]
	}
}
