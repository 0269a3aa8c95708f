// Package compose turns a delivery into the message that goes out: the campaign's template rendered
// in the member's language with the member's details and coupon, the signed unsubscribe link, the
// List-Unsubscribe headers of RFC 8058 and the Message-ID. The worker, previews and test sends all
// compose through it, so that a preview is exactly what a member would get.
package compose

import (
	"errors"
	"fmt"
	"net"
	"net/mail"
	"net/url"
	"strings"
	"time"

	"github.com/jacksmood/dispatch/campaigns"
	"github.com/jacksmood/dispatch/templates"
)

// Message is one rendered message for one delivery, ready for a Sender. To is the address (email)
// or E.164 number (SMS); it exists only here, never in a log or the queue.
type Message struct {
	DeliveryID int64
	MemberID   int64
	RunID      int64
	Channel    campaigns.Channel
	To         string
	Content    templates.Message
	Headers    map[string]string
	MessageID  string
}

// Config says how messages are composed.
type Config struct {
	// PublicURL is the base of unsubscribe links (DISPATCH_PUBLIC_URL). Required.
	PublicURL string
	// UnsubscribeMailto is the address of the mailto: List-Unsubscribe, if any.
	UnsubscribeMailto string
	// Secret signs unsubscribe links (DISPATCH_SECRET), at least 16 bytes. Required.
	Secret []byte
	// MessageIDDomain is the domain of Message-IDs. Default "dispatch.local".
	MessageIDDomain string
	// Timezone is DISPATCH_TIMEZONE: the coupon's last day is named in it. Default Europe/Helsinki.
	Timezone *time.Location
}

// Validate fills defaults and checks the required fields.
func (c *Config) Validate() error {
	if c.MessageIDDomain == "" {
		c.MessageIDDomain = "dispatch.local"
	}
	if c.Timezone == nil {
		loc, err := time.LoadLocation("Europe/Helsinki")
		if err != nil {
			return fmt.Errorf("compose: Timezone: %w", err)
		}
		c.Timezone = loc
	}
	if err := CheckPublicURL(c.PublicURL); err != nil {
		return fmt.Errorf("compose: PublicURL: %w", err)
	}
	if len(c.Secret) < 16 {
		return errors.New("compose: Secret must be at least 16 bytes")
	}
	return nil
}

// Composer composes messages. It is safe for concurrent use.
type Composer struct {
	cfg    Config
	render *templates.Renderer
}

// New returns a composer rendering with r. It fails when cfg is incomplete.
func New(cfg Config, r *templates.Renderer) (*Composer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if r == nil {
		return nil, errors.New("compose: a template renderer is required")
	}
	return &Composer{cfg: cfg, render: r}, nil
}

// Renderer returns the template renderer the composer uses.
func (c *Composer) Renderer() *templates.Renderer { return c.render }

// Compose renders the message of a delivery: the campaign's template in the member's language, the
// coupon (nil for none), the unsubscribe link and headers. test marks a test send. It fails when the
// template does not render.
func (c *Composer) Compose(run campaigns.Run, d campaigns.Delivery, coupon *campaigns.IssuedCoupon, test bool) (Message, error) {
	m := d.Member
	data := templates.Data{
		FirstName: m.FirstName, LastName: m.LastName, Street: m.Street, PostalCode: m.PostalCode,
		City: m.City, Country: m.Country, Language: m.Language,
		CampaignName: run.Spec.Name, Kind: string(run.Spec.Kind), Test: test,
	}
	if run.Spec.Coupon != nil {
		data.Discount = run.Spec.Coupon.Discount
	}
	if coupon != nil {
		// The message names the coupon's last day as DISPATCH_TIMEZONE has it, as the ledger does.
		data.CouponCode, data.ValidUntil = coupon.Code, coupon.ValidUntil.In(c.cfg.Timezone)
	}
	msg := Message{DeliveryID: d.ID, MemberID: m.ID, RunID: run.ID, Channel: d.Channel}
	switch d.Channel {
	case campaigns.Email:
		msg.To = m.Email
		token := campaigns.SignUnsubscribe(c.cfg.Secret, m.ID, campaigns.Email)
		data.UnsubscribeURL = c.cfg.PublicURL + "/u/" + token
		unsub := "<" + data.UnsubscribeURL + ">"
		if c.cfg.UnsubscribeMailto != "" {
			unsub += ", <mailto:" + c.cfg.UnsubscribeMailto + "?subject=unsubscribe%20" + token + ">"
		}
		msg.Headers = map[string]string{
			"List-Unsubscribe":      unsub,
			"List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
		}
		msg.MessageID = fmt.Sprintf("d%d.r%d@%s", d.ID, run.ID, c.cfg.MessageIDDomain)
	case campaigns.SMS:
		msg.To = m.Phone
	}
	content, err := c.render.Render(run.Spec.Template, d.Channel, m.Language, data)
	if err != nil {
		return msg, err
	}
	msg.Content = content
	return msg, nil
}

// TestMessageID returns a fresh Message-ID for a test send of a campaign: unique, and never one a
// real delivery could have.
func (c *Composer) TestMessageID(campaignID, nonce int64) string {
	return fmt.Sprintf("test.c%d.%d@%s", campaignID, nonce, c.cfg.MessageIDDomain)
}

// CheckPublicURL says whether u may be the base of unsubscribe links: RFC 8058's one-click
// unsubscribe needs https; plain http is allowed on a loopback address only (localhost, 127.0.0.0/8,
// ::1), for development.
func CheckPublicURL(u string) error {
	p, err := url.Parse(u)
	if err != nil || p.Host == "" || (p.Scheme != "http" && p.Scheme != "https") {
		return fmt.Errorf("%q is not a URL like https://news.jacksmood.example", u)
	}
	if p.Scheme == "https" {
		return nil
	}
	host := p.Hostname()
	if ip := net.ParseIP(host); host == "localhost" || (ip != nil && ip.IsLoopback()) {
		return nil
	}
	return fmt.Errorf("%s: unsubscribe links must be https (RFC 8058 one-click unsubscribe); plain http is allowed only on a loopback address, for development", u)
}

// DomainOf returns the domain of an address such as "Jack's Mood <news@jacksmood.example>", or ""
// when it is not an address.
func DomainOf(from string) string {
	a, err := mail.ParseAddress(from)
	if err != nil {
		return ""
	}
	return a.Address[strings.LastIndexByte(a.Address, '@')+1:]
}
