package email

import (
	"crypto/tls"
	"errors"
	"fmt"
	netmail "net/mail"
	"net/url"
	"strconv"
	"strings"
	"time"

	mail "github.com/wneessen/go-mail"
)

// Defaults of Config.
const (
	DefaultURL                = "smtp://127.0.0.1:1025"
	DefaultFrom               = "Jack's Mood <news@jacksmood.example>"
	DefaultConnections        = 10
	DefaultTimeout            = 30 * time.Second
	DefaultIdleTimeout        = 30 * time.Second
	DefaultMaxMessagesPerConn = 1000
)

// Config tunes a Sender. Zero values take the defaults given; Validate fills them in.
type Config struct {
	// URL is the SMTP server (DISPATCH_SMTP_URL):
	//   smtp://[user:pass@]host[:port][?starttls=required|opportunistic|off]
	//   smtps://[user:pass@]host[:port]                      (implicit TLS)
	// The port defaults to 25 for smtp:// and 465 for smtps://. starttls defaults to opportunistic:
	// upgrade when the server offers STARTTLS; required refuses a server that does not; off never
	// upgrades. With user:pass (percent-encoded as in any URL) the Sender authenticates with PLAIN or
	// LOGIN, whichever the server offers, and only over TLS or to a loopback server.
	// Default DefaultURL.
	URL string
	// From is the sender (DISPATCH_MAIL_FROM), an RFC 5322 address with an optional display name; its
	// address is also the envelope sender. Default DefaultFrom.
	From string
	// Connections is the most SMTP connections open at once, and so the most messages in flight.
	// Default 10.
	Connections int
	// Timeout bounds dialing (connect, greeting, STARTTLS, AUTH) and each SMTP command: the server
	// must answer within it. Default 30s.
	Timeout time.Duration
	// IdleTimeout is how long a connection may sit unused before it is closed; an idle connection is
	// one the server may already have dropped. Default 30s.
	IdleTimeout time.Duration
	// MaxMessagesPerConn is how many messages one connection carries before it is closed and a fresh
	// one dialed, as servers limit messages per session. Default 1000.
	MaxMessagesPerConn int
	// TLSConfig is used for STARTTLS and smtps://. Nil means the system's roots, TLS 1.2 or newer,
	// and ServerName = the URL's host; a given config without ServerName gets the host too.
	TLSConfig *tls.Config
}

// Validate fills in the defaults and checks the settings. It returns one error naming the setting
// at fault (e.g. "DISPATCH_SMTP_URL: scheme must be smtp or smtps"); the error never repeats the
// URL, which may hold a password.
func (c *Config) Validate() error {
	if c.URL == "" {
		c.URL = DefaultURL
	}
	if c.From == "" {
		c.From = DefaultFrom
	}
	if c.Connections == 0 {
		c.Connections = DefaultConnections
	}
	if c.Timeout == 0 {
		c.Timeout = DefaultTimeout
	}
	if c.IdleTimeout == 0 {
		c.IdleTimeout = DefaultIdleTimeout
	}
	if c.MaxMessagesPerConn == 0 {
		c.MaxMessagesPerConn = DefaultMaxMessagesPerConn
	}
	if _, err := parseURL(c.URL); err != nil {
		return fmt.Errorf("DISPATCH_SMTP_URL: %w", err)
	}
	if _, err := netmail.ParseAddress(c.From); err != nil {
		return fmt.Errorf("DISPATCH_MAIL_FROM: %q is not an email address: %v", c.From, err)
	}
	switch {
	case c.Connections < 0:
		return fmt.Errorf("email Connections: %d, must be positive", c.Connections)
	case c.Timeout < 0:
		return fmt.Errorf("email Timeout: %s, must be positive", c.Timeout)
	case c.IdleTimeout < 0:
		return fmt.Errorf("email IdleTimeout: %s, must be positive", c.IdleTimeout)
	case c.MaxMessagesPerConn < 0:
		return fmt.Errorf("email MaxMessagesPerConn: %d, must be positive", c.MaxMessagesPerConn)
	}
	return nil
}

// endpoint is a parsed DISPATCH_SMTP_URL.
type endpoint struct {
	host        string
	port        int
	implicitTLS bool           // smtps://
	policy      mail.TLSPolicy // STARTTLS policy for smtp://
	user, pass  string         // empty user: no AUTH
}

// tlsMode names the connection's TLS for logs.
func (e endpoint) tlsMode() string {
	if e.implicitTLS {
		return "implicit"
	}
	switch e.policy {
	case mail.TLSMandatory:
		return "starttls-required"
	case mail.NoTLS:
		return "off"
	}
	return "starttls-opportunistic"
}

// parseURL reads a DISPATCH_SMTP_URL. Its errors never quote the URL.
func parseURL(raw string) (endpoint, error) {
	var ep endpoint
	if !strings.Contains(raw, "://") {
		return ep, errors.New("must look like smtp://[user:pass@]host:port or smtps://[user:pass@]host:port")
	}
	u, err := url.Parse(raw)
	if err != nil {
		// url.Error quotes the whole URL, password included: keep only the reason.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return ep, fmt.Errorf("not a valid URL: %v", err)
	}
	switch u.Scheme {
	case "smtp":
	case "smtps":
		ep.implicitTLS = true
	default:
		return ep, fmt.Errorf("scheme must be smtp or smtps, not %q", u.Scheme)
	}
	if u.Opaque != "" {
		return ep, fmt.Errorf("must look like %s://host:port", u.Scheme)
	}
	ep.host = u.Hostname()
	if ep.host == "" {
		return ep, errors.New("missing host")
	}
	if u.Path != "" && u.Path != "/" {
		return ep, errors.New("must have no path")
	}
	if u.Fragment != "" {
		return ep, errors.New("must have no fragment")
	}
	ep.port = 25
	if ep.implicitTLS {
		ep.port = 465
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return ep, fmt.Errorf("port %q is not a port number", p)
		}
		ep.port = n
	}
	if u.User != nil {
		ep.user = u.User.Username()
		pass, ok := u.User.Password()
		if ep.user == "" || !ok || pass == "" {
			return ep, errors.New("credentials must be given as user:password")
		}
		ep.pass = pass
	}
	ep.policy = mail.TLSOpportunistic
	for key, values := range u.Query() {
		if key != "starttls" {
			return ep, fmt.Errorf("unknown parameter %q (only starttls)", key)
		}
		if ep.implicitTLS {
			return ep, errors.New("starttls does not apply to smtps:// (implicit TLS)")
		}
		if len(values) != 1 {
			return ep, errors.New("starttls given more than once")
		}
		switch values[0] {
		case "required":
			ep.policy = mail.TLSMandatory
		case "opportunistic":
			ep.policy = mail.TLSOpportunistic
		case "off":
			ep.policy = mail.NoTLS
		default:
			return ep, fmt.Errorf("starttls must be required, opportunistic or off, not %q", values[0])
		}
	}
	return ep, nil
}
