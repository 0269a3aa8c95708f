package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/jacksmood/dispatch/campaigns"
	"github.com/jacksmood/dispatch/templates"
	"github.com/jacksmood/dispatch/worker"
	"github.com/jacksmood/dispatch/worker/email"
)

// previewCode stands in for a coupon code in previews and test sends: it is not a real code.
const previewCode = "TEST-CODE-XXXX"

// composer returns a worker that can render messages (no senders): for previews and test sends.
// Without DISPATCH_SECRET (a marketer's shell) the links it signs do not work, and need not.
func (a *app) composer() (*worker.Worker, error) {
	secret := a.cfg.Secret
	if secret == "" {
		secret = "preview-only-secret-links-do-not-work"
	}
	r, err := templates.New(a.cfg.TemplateDir)
	if err != nil {
		return nil, err
	}
	return worker.New(worker.Config{PublicURL: a.cfg.PublicURL, Secret: []byte(secret),
		MessageIDDomain: worker.DomainOf(a.cfg.MailFrom)}, nil, nil, nil, r, nil, nil, a.log)
}

// previewCoupon is the stand-in coupon of previews and test sends: a placeholder code, never issued.
func previewCoupon(spec campaigns.Spec) *campaigns.IssuedCoupon {
	if spec.Coupon == nil {
		return nil
	}
	return &campaigns.IssuedCoupon{Code: previewCode, ValidUntil: time.Now().AddDate(0, 0, spec.Coupon.ValidDays)}
}

func (a *app) previewCommand() *cobra.Command {
	var memberID, channel string
	cmd := &cobra.Command{
		Use:   "preview ID --member EXTERNAL_ID --channel email|sms|postal",
		Short: "Print the message a member would get (rendered in their language; the coupon code is a placeholder)",
		Args:  args(1, "ID"),
		RunE: func(cmd *cobra.Command, argv []string) error {
			if _, err := campaignID(argv[0]); err != nil {
				return err
			}
			ch, err := campaigns.ParseChannel(channel)
			if err != nil {
				return usagef("--channel: %v", err)
			}
			if memberID == "" {
				return usagef("--member EXTERNAL_ID is required")
			}
			actor, err := a.actor() // a preview shows a member's data: named users only
			if err != nil {
				return err
			}
			c, err := a.loadCampaign(argv[0])
			if err != nil {
				return err
			}
			m, err := a.store.MemberByExternalID(a.ctx, memberID)
			if err != nil {
				return err
			}
			w, err := a.composer()
			if err != nil {
				return err
			}
			msg, err := w.Compose(campaigns.Run{CampaignID: c.ID, Spec: c.Spec}, campaigns.Delivery{Channel: ch, Member: m}, previewCoupon(c.Spec), false)
			if err != nil {
				return err
			}
			if err := a.store.Audit(a.ctx, actor, "campaigns.preview", m.ID, map[string]any{"campaign_id": c.ID, "channel": ch}); err != nil {
				return err
			}
			printMessage(a, msg)
			return nil
		},
	}
	cmd.Flags().StringVar(&memberID, "member", "", "the member's external id (required)")
	cmd.Flags().StringVar(&channel, "channel", "email", "email, sms or postal")
	return cmd
}

func printMessage(a *app, msg worker.Message) {
	c := msg.Content
	switch msg.Channel {
	case campaigns.Email:
		fmt.Fprintf(a.stdout, "To: %s\nSubject: %s\nMessage-ID: <%s>\n", msg.To, c.Subject, msg.MessageID)
		for k, v := range msg.Headers {
			fmt.Fprintf(a.stdout, "%s: %s\n", k, v)
		}
		fmt.Fprintf(a.stdout, "\n--- text/plain ---\n%s\n--- text/html ---\n%s\n", c.Text, c.HTML)
	case campaigns.SMS:
		fmt.Fprintf(a.stdout, "To: %s\n\n%s\n", msg.To, c.Text)
	default:
		fmt.Fprintf(a.stdout, "%s\n\n%s\n", c.Title, c.Text)
	}
}

func (a *app) testSendCommand() *cobra.Command {
	var channel, to, lang string
	cmd := &cobra.Command{
		Use:   "test-send ID --channel email --to ADDRESS [--lang fi|sv|en]",
		Short: "Send the campaign's message, marked as a test, to one address (a sample member; no delivery is recorded)",
		Args:  args(1, "ID"),
		RunE: func(cmd *cobra.Command, argv []string) error {
			if _, err := campaignID(argv[0]); err != nil {
				return err
			}
			ch, err := campaigns.ParseChannel(channel)
			if err != nil {
				return usagef("--channel: %v", err)
			}
			if ch != campaigns.Email {
				return usagef("--channel: test sends go by email for now")
			}
			addr, err := campaigns.NormalizeEmail(to)
			if err != nil {
				return usagef("--to: %v", err)
			}
			language, err := campaigns.ParseLanguage(lang)
			if err != nil {
				return usagef("--lang: %v", err)
			}
			c, err := a.loadCampaign(argv[0])
			if err != nil {
				return err
			}
			w, err := a.composer()
			if err != nil {
				return err
			}
			sample := templates.SampleData(string(c.Spec.Kind), language)
			member := campaigns.Member{FirstName: sample.FirstName, LastName: sample.LastName, Email: addr, Street: sample.Street,
				PostalCode: sample.PostalCode, City: sample.City, Country: sample.Country, Language: language}
			msg, err := w.Compose(campaigns.Run{CampaignID: c.ID, Spec: c.Spec}, campaigns.Delivery{Channel: ch, Member: member}, previewCoupon(c.Spec), true)
			if err != nil {
				return err
			}
			msg.MessageID = fmt.Sprintf("test.c%d.%d@%s", c.ID, time.Now().UnixNano(), worker.DomainOf(a.cfg.MailFrom))
			mailer, err := email.New(email.Config{URL: a.cfg.SMTPURL, From: a.cfg.MailFrom, Connections: 1}, a.log)
			if err != nil {
				return err
			}
			defer mailer.Close()
			if _, err := (email.Channel{Sender: mailer}).Send(a.ctx, msg); err != nil {
				return fmt.Errorf("test send: %w", err)
			}
			if err := a.store.Audit(a.ctx, a.osActor(), "campaigns.test-send", 0, map[string]any{"campaign_id": c.ID, "channel": ch}); err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "test message of campaign %d sent (Message-ID <%s>)\n", c.ID, msg.MessageID)
			return nil
		},
	}
	cmd.Flags().StringVar(&channel, "channel", "email", "the channel to test (email)")
	cmd.Flags().StringVar(&to, "to", "", "where to send the test (required)")
	cmd.Flags().StringVar(&lang, "lang", "fi", "language of the sample member: fi, sv or en")
	return cmd
}
