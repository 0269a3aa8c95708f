package main

import (
	"fmt"
	"maps"
	"slices"

	"github.com/spf13/cobra"

	"github.com/jacksmood/dispatch/campaigns"
	"github.com/jacksmood/dispatch/campaigns/service"
)

func (a *app) previewCommand() *cobra.Command {
	var memberID, channel string
	cmd := &cobra.Command{
		Use:   "preview ID --member EXTERNAL_ID --channel email|sms|postal",
		Short: "Print the message a member would get and whether they would get it (in their language; the coupon code is a placeholder)",
		Args:  args(1, "ID"),
		RunE: func(cmd *cobra.Command, argv []string) error {
			id, err := campaignID(argv[0])
			if err != nil {
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
			msg, err := a.svc.Preview(a.ctx, actor, id, memberID, ch)
			if err != nil {
				return err
			}
			printPreview(a, msg)
			return nil
		},
	}
	cmd.Flags().StringVar(&memberID, "member", "", "the member's external id (required)")
	cmd.Flags().StringVar(&channel, "channel", "email", "email, sms or postal")
	return cmd
}

// printPreview writes a preview: whether the member would get it (and if not, why), then the
// message as it would go out.
func printPreview(a *app, p service.Preview) {
	if p.WouldSend {
		fmt.Fprintf(a.stdout, "Would send: yes (%s, language %s)\n", p.Channel, p.Language)
	} else {
		fmt.Fprintf(a.stdout, "Would send: no, %s (%s, language %s)\n", p.Reason, p.Channel, p.Language)
	}
	if p.To != "" {
		fmt.Fprintf(a.stdout, "To: %s\n", p.To)
	}
	switch p.Channel {
	case campaigns.Email:
		fmt.Fprintf(a.stdout, "Subject: %s\nMessage-ID: <%s>\n", p.Subject, p.MessageID)
		for _, k := range slices.Sorted(maps.Keys(p.Headers)) {
			fmt.Fprintf(a.stdout, "%s: %s\n", k, p.Headers[k])
		}
		fmt.Fprintf(a.stdout, "\n--- text/plain ---\n%s\n--- text/html ---\n%s\n", p.Text, p.HTML)
	case campaigns.SMS:
		fmt.Fprintf(a.stdout, "SMS: %s, %d characters, %d segment(s)\n\n%s\n", p.SMS.Encoding, p.SMS.Characters, p.SMS.Segments, p.Text)
	default:
		fmt.Fprintf(a.stdout, "\n%s\n\n%s\n", p.Title, p.Text)
	}
}

func (a *app) testSendCommand() *cobra.Command {
	var channel, to, lang string
	cmd := &cobra.Command{
		Use:   "test-send ID --channel email|sms --to ADDRESS|NUMBER [--lang fi|sv|en]",
		Short: "Send the campaign's message, marked as a test, to one address (a sample member; no delivery is recorded)",
		Args:  args(1, "ID"),
		RunE: func(cmd *cobra.Command, argv []string) error {
			id, err := campaignID(argv[0])
			if err != nil {
				return err
			}
			ch, err := campaigns.ParseChannel(channel)
			if err != nil {
				return usagef("--channel: %v", err)
			}
			language, err := campaigns.ParseLanguage(lang)
			if err != nil {
				return usagef("--lang: %v", err)
			}
			svc, actor, err := a.operatorService()
			if err != nil {
				return err
			}
			msg, err := svc.TestSend(a.ctx, actor, id, ch, to, language)
			if isKind(err, campaigns.ErrInvalid) {
				return usagef("--%v", err)
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "test message of campaign %d sent (Message-ID <%s>)\n", id, msg.MessageID)
			return nil
		},
	}
	cmd.Flags().StringVar(&channel, "channel", "email", "the channel to test: email, or sms (to a mobile number)")
	cmd.Flags().StringVar(&to, "to", "", "where to send the test (required)")
	cmd.Flags().StringVar(&lang, "lang", "fi", "language of the sample member: fi, sv or en")
	return cmd
}
