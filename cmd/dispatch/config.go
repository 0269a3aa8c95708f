package main

import (
	"crypto/tls"
	"fmt"
	"net"
	"net/mail"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/jacksmood/dispatch/campaigns"
	"github.com/jacksmood/dispatch/worker/compose"
)

// config is dispatch's configuration as the environment (and flags, which override it) give it.
// Only this package reads the environment; components get their own Config structs from it.
type config struct {
	DatabaseURL string
	RedisURL    string
	SMTPURL     string
	SMTPURLSet  bool // DISPATCH_SMTP_URL was given (the demo runs its own catcher otherwise)
	// SMTPTimeout is DISPATCH_SMTP_TIMEOUT: how long the SMTP server may take to answer.
	SMTPTimeout time.Duration
	// PublicURLSet: DISPATCH_PUBLIC_URL was given (the demo serves its links where it can otherwise)
	PublicURLSet bool
	MailFrom     string
	SMSURL       string
	PrintDir     string
	PublicURL    string
	HTTPAddr     string
	PublicAddr   string
	// TLSCert and TLSKey are the staff listener's certificate and key files; "": plain HTTP.
	TLSCert, TLSKey string
	// TokenLifetime is DISPATCH_TOKEN_LIFETIME.
	TokenLifetime time.Duration
	// PreviousSecrets are the secrets DISPATCH_SECRET replaced, still verifying links.
	PreviousSecrets [][]byte
	Secret          string
	// SuppressionKey is DISPATCH_SUPPRESSION_KEY, the key of the register's keyed hashes.
	SuppressionKey string
	Timezone       *time.Location
	TemplateDir    string
	EmailRate      rate
	SMSRate        rate
	User           string
	// QuietHours is when no marketing SMS is sent.
	QuietHours campaigns.QuietHours
	// UnsubscribeMailto is the address of the mailto: List-Unsubscribe; empty: https only.
	UnsubscribeMailto string
	// SMSWebhookSecret is the secret set on GatewayAPI's webhooks, which signs their JWTs; "": none.
	SMSWebhookSecret string
}

// rate is a send rate such as "200/s"; zero means unlimited.
type rate struct {
	N   int
	Per time.Duration
}

func (r rate) String() string {
	if r.N == 0 {
		return "unlimited"
	}
	return fmt.Sprintf("%d per %s", r.N, r.Per)
}

// setting is one row of the configuration table: environment variable, flag, default, and check.
type setting struct {
	env, flag, def, help string
	apply                func(c *config, v string) error
}

var settings = []setting{
	{"DISPATCH_DATABASE_URL", "database-url", "postgres://localhost:5432/dispatch?sslmode=disable", "PostgreSQL URL",
		func(c *config, v string) error {
			u, err := url.Parse(v)
			if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") || u.Host == "" {
				return fmt.Errorf("want a URL like postgres://HOST:5432/DB?sslmode=disable")
			}
			c.DatabaseURL = v
			return nil
		}},
	{"DISPATCH_REDIS_URL", "redis-url", "redis://127.0.0.1:6379/0", "Redis for asynq: redis:// or rediss://, or redis-sentinel://HOST:26379,HOST:26379/0?master=NAME",
		func(c *config, v string) error {
			if _, err := parseRedisURL(v); err != nil {
				return err
			}
			c.RedisURL = v
			return nil
		}},
	{"DISPATCH_SMTP_URL", "smtp-url", "smtp://127.0.0.1:1025", "SMTP server: smtp:// or smtps://, user:pass@, ?starttls=required|opportunistic|off",
		func(c *config, v string) error {
			u, err := url.Parse(v)
			if err != nil || (u.Scheme != "smtp" && u.Scheme != "smtps") || u.Hostname() == "" {
				return fmt.Errorf("want a URL like smtp://HOST:25 or smtps://USER:PASS@HOST:465")
			}
			switch st := u.Query().Get("starttls"); st {
			case "", "required", "opportunistic", "off":
			default:
				return fmt.Errorf("starttls=%q: want required, opportunistic or off", st)
			}
			c.SMTPURL = v
			return nil
		}},
	{"DISPATCH_SMTP_TIMEOUT", "smtp-timeout", "30s", "how long the SMTP server may take to be dialed or to answer a command; a message it stalls on is tried again later",
		func(c *config, v string) error {
			d, err := time.ParseDuration(v)
			if err != nil || d <= 0 {
				return fmt.Errorf("%q is not a positive duration like 30s", v)
			}
			c.SMTPTimeout = d
			return nil
		}},
	{"DISPATCH_MAIL_FROM", "mail-from", "Jack's Mood <news@jacksmood.example>", "sender of email",
		func(c *config, v string) error {
			if _, err := mail.ParseAddress(v); err != nil {
				return fmt.Errorf("want an address like \"Jack's Mood <news@jacksmood.example>\"")
			}
			c.MailFrom = v
			return nil
		}},
	{"DISPATCH_SMS_URL", "sms-url", "log://", "SMS gateway: log://, twilio://SID:TOKEN@api.twilio.com?from=X, gatewayapi://TOKEN@gatewayapi.com?sender=X",
		func(c *config, v string) error {
			u, err := url.Parse(v)
			if err != nil {
				return fmt.Errorf("not a URL")
			}
			switch u.Scheme {
			case "log", "twilio", "twilio+http", "gatewayapi", "gatewayapi+http":
			default:
				return fmt.Errorf("scheme %q: want log, twilio, twilio+http or gatewayapi", u.Scheme)
			}
			c.SMSURL = v
			return nil
		}},
	{"DISPATCH_SMS_WEBHOOK_SECRET", "", "", "with gatewayapi://: the authentication token set on GatewayAPI's webhooks, which verifies their JWTs (X-Gwapi-Signature)",
		func(c *config, v string) error {
			if err := checkSecret(v); err != nil {
				return err
			}
			c.SMSWebhookSecret = v
			return nil
		}},
	{"DISPATCH_PRINT_DIR", "print-dir", "./print-outbox", "where print batches are written",
		func(c *config, v string) error { c.PrintDir = v; return nil }},
	{"DISPATCH_PUBLIC_URL", "public-url", "http://127.0.0.1:8081", "base of unsubscribe and preference links",
		func(c *config, v string) error {
			if err := compose.CheckPublicURL(v); err != nil {
				return err
			}
			c.PublicURL = strings.TrimRight(v, "/")
			return nil
		}},
	{"DISPATCH_HTTP_ADDR", "http-addr", "127.0.0.1:8080", "staff listener of dispatch serve: API, queue dashboard, /metrics",
		func(c *config, v string) error {
			if _, port, err := net.SplitHostPort(v); err != nil || port == "" {
				return fmt.Errorf("want HOST:PORT")
			}
			c.HTTPAddr = v
			return nil
		}},
	{"DISPATCH_PUBLIC_ADDR", "public-addr", "127.0.0.1:8081", "public listener of dispatch serve: unsubscribe pages, SMS hooks, /healthz",
		func(c *config, v string) error {
			if _, port, err := net.SplitHostPort(v); err != nil || port == "" {
				return fmt.Errorf("want HOST:PORT")
			}
			c.PublicAddr = v
			return nil
		}},
	{"DISPATCH_SECRET", "", "", "key for signed links; required by serve, worker and scheduler",
		func(c *config, v string) error {
			if err := checkSecret(v); err != nil {
				return err
			}
			c.Secret = v
			return nil
		}},
	{"DISPATCH_SUPPRESSION_KEY", "", "", "key of the suppression list's hashes (and of erased members' ids); required by serve and by imports, erasures and seeding; never change it",
		func(c *config, v string) error {
			if err := checkSecret(v); err != nil {
				return err
			}
			c.SuppressionKey = v
			return nil
		}},
	{"DISPATCH_SECRET_PREVIOUS", "", "", "secrets DISPATCH_SECRET replaced, comma-separated: links they signed keep working",
		func(c *config, v string) error {
			for _, p := range strings.Split(v, ",") {
				if p = strings.TrimSpace(p); p == "" {
					continue
				}
				if err := checkSecret(p); err != nil {
					return err
				}
				c.PreviousSecrets = append(c.PreviousSecrets, []byte(p))
			}
			return nil
		}},
	{"DISPATCH_TOKEN_LIFETIME", "", "365d", "how long an API token opens anything after it is made or rotated (90d, 365d)",
		func(c *config, v string) error {
			d, err := campaigns.ParseDuration(v)
			if err != nil || time.Duration(d) < time.Hour {
				return fmt.Errorf("%q is not a lifetime of an hour or more, like 90d", v)
			}
			c.TokenLifetime = time.Duration(d)
			return nil
		}},
	{"DISPATCH_TLS_CERT", "", "", "PEM certificate (chain) of the staff listener: with DISPATCH_TLS_KEY it serves HTTPS",
		func(c *config, v string) error { c.TLSCert = v; return nil }},
	{"DISPATCH_TLS_KEY", "", "", "PEM private key of DISPATCH_TLS_CERT",
		func(c *config, v string) error {
			c.TLSKey = v
			if (c.TLSCert == "") != (v == "") {
				return fmt.Errorf("give both DISPATCH_TLS_CERT and DISPATCH_TLS_KEY, or neither")
			}
			if v == "" {
				return nil
			}
			if _, err := tls.LoadX509KeyPair(c.TLSCert, v); err != nil {
				return fmt.Errorf("cannot load the certificate and key: %v", err)
			}
			return nil
		}},
	{"DISPATCH_TIMEZONE", "timezone", "Europe/Helsinki", "time zone of schedules and quiet hours",
		func(c *config, v string) error {
			loc, err := time.LoadLocation(v)
			if err != nil {
				return fmt.Errorf("unknown time zone %q", v)
			}
			c.Timezone = loc
			return nil
		}},
	{"DISPATCH_SMS_QUIET_HOURS", "", "21:00-09:00", "when no marketing SMS is sent, in DISPATCH_TIMEZONE (off: never quiet)",
		func(c *config, v string) (err error) {
			c.QuietHours, err = campaigns.ParseQuietHours(v, c.Timezone)
			return err
		}},
	{"DISPATCH_TEMPLATE_DIR", "template-dir", "", "folder of templates that add to or override the built-in ones",
		func(c *config, v string) error {
			if v != "" {
				if st, err := os.Stat(v); err != nil || !st.IsDir() {
					return fmt.Errorf("%q is not a folder", v)
				}
			}
			c.TemplateDir = v
			return nil
		}},
	{"DISPATCH_EMAIL_RATE", "email-rate", "", "email send rate across all workers, e.g. 200/s (empty: unlimited)",
		func(c *config, v string) (err error) { c.EmailRate, err = parseRate(v); return err }},
	{"DISPATCH_SMS_RATE", "sms-rate", "", "SMS send rate across all workers, e.g. 10/s (empty: unlimited)",
		func(c *config, v string) (err error) { c.SMSRate, err = parseRate(v); return err }},
	{"DISPATCH_UNSUBSCRIBE_MAILTO", "", "", "address of the mailto: List-Unsubscribe (empty: https link only)",
		func(c *config, v string) error {
			if v != "" {
				if _, err := mail.ParseAddress(v); err != nil || strings.ContainsAny(v, "<> ") {
					return fmt.Errorf("want a bare address like unsubscribe@jacksmood.example")
				}
			}
			c.UnsubscribeMailto = v
			return nil
		}},
	{"DISPATCH_USER", "as", "", "the named user acting (audited); required for imports, exports, erasures and consent changes",
		func(c *config, v string) error { c.User = strings.TrimSpace(v); return nil }},
}

func parseRate(v string) (rate, error) {
	if v == "" {
		return rate{}, nil
	}
	n, unit, ok := strings.Cut(v, "/")
	count, err := strconv.Atoi(n)
	if !ok || err != nil || count <= 0 {
		return rate{}, fmt.Errorf("want a rate like 200/s, 6000/m or 100000/h")
	}
	per := map[string]time.Duration{"s": time.Second, "m": time.Minute, "h": time.Hour}[unit]
	if per == 0 {
		return rate{}, fmt.Errorf("unit %q: want s, m or h", unit)
	}
	return rate{N: count, Per: per}, nil
}

// addConfigFlags declares one flag per setting that has one.
func addConfigFlags(fs *pflag.FlagSet) {
	for _, s := range settings {
		if s.flag != "" {
			fs.String(s.flag, "", s.help+" (env "+s.env+")")
		}
	}
}

// loadConfig reads every setting from the environment, lets set flags override it, and checks it.
// The error names the variable (or flag) and what is wrong, in one line.
func loadConfig(getenv func(string) string, fs *pflag.FlagSet) (*config, error) {
	c := &config{}
	for _, s := range settings {
		v, from := s.def, s.env
		if e, ok := lookup(getenv, s.env); ok {
			v = e
		}
		if s.flag != "" && fs != nil {
			if f := fs.Lookup(s.flag); f != nil && f.Changed {
				v, from = f.Value.String(), "--"+s.flag
			}
		}
		if s.env == "DISPATCH_SMTP_URL" {
			_, c.SMTPURLSet = lookup(getenv, s.env)
			c.SMTPURLSet = c.SMTPURLSet || (fs != nil && fs.Changed(s.flag))
		}
		if s.env == "DISPATCH_PUBLIC_URL" {
			_, c.PublicURLSet = lookup(getenv, s.env)
			c.PublicURLSet = c.PublicURLSet || (fs != nil && fs.Changed(s.flag))
		}
		if err := s.apply(c, v); err != nil {
			return nil, fmt.Errorf("%s: %v", from, err)
		}
	}
	return c, nil
}

func lookup(getenv func(string) string, key string) (string, bool) {
	v := getenv(key)
	return v, v != ""
}

// checkSecret refuses a DISPATCH_SECRET that cannot keep links unforgeable: shorter than 16
// characters, with spaces or control characters at either end (a copy-paste slip), or of fewer than
// 8 different characters ("aaaaaaaaaaaaaaaa", 16 spaces). "" means not set.
func checkSecret(v string) error {
	if v == "" {
		return nil
	}
	if len(v) < 16 {
		return fmt.Errorf("must be at least 16 characters (e.g. openssl rand -hex 32)")
	}
	if strings.TrimSpace(v) != v {
		return fmt.Errorf("starts or ends with white space")
	}
	distinct := map[rune]bool{}
	for _, r := range v {
		distinct[r] = true
	}
	if len(distinct) < 8 {
		return fmt.Errorf("has fewer than 8 different characters: use a random value (e.g. openssl rand -hex 32)")
	}
	return nil
}
