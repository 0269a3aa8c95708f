package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/jacksmood/dispatch/campaigns"
)

func (a *app) membersCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "members", Short: "Import, export and erase members of the register"}
	var source string
	imp := &cobra.Command{
		Use:   "import FILE.csv",
		Short: "Import or update members from CSV (bad rows are reported by line and skipped)",
		Args:  args(1, "FILE.csv"),
		RunE: func(cmd *cobra.Command, argv []string) error {
			src, err := campaigns.ParseConsentSource(source)
			if err != nil {
				return usagef("--source: %v", err)
			}
			return a.importFile(argv[0], func(f *os.File, name string, actor campaigns.User) ([]campaigns.RowError, string, error) {
				res, err := a.svc.ImportMembers(a.ctx, actor, f, name, src)
				return res.Rejections, fmt.Sprintf("imported %d, updated %d, unchanged %d, rejected %d",
					res.Imported, res.Updated, res.Unchanged, res.Rejected), err
			})
		},
	}
	imp.Flags().StringVar(&source, "source", "import", "where the consents in the file come from (import, population-register, signup-form, customer-service)")
	export := &cobra.Command{
		Use:   "export EXTERNAL_ID",
		Short: "Write everything held about a member as JSON (right of access)",
		Args:  args(1, "EXTERNAL_ID"),
		RunE: func(cmd *cobra.Command, argv []string) error {
			actor, err := a.actor()
			if err != nil {
				return err
			}
			x, err := a.svc.ExportMember(a.ctx, actor, argv[0])
			if err != nil {
				return err
			}
			enc := json.NewEncoder(a.stdout)
			enc.SetIndent("", "  ")
			return enc.Encode(x)
		},
	}
	var yes bool
	erase := &cobra.Command{
		Use:   "erase EXTERNAL_ID [--yes]",
		Short: "Erase a member's personal data (keeps anonymous counts and the coupon ledger); asks to type the id unless --yes",
		Args:  args(1, "EXTERNAL_ID"),
		RunE: func(cmd *cobra.Command, argv []string) error {
			actor, err := a.actor()
			if err != nil {
				return err
			}
			if !yes {
				fmt.Fprintf(a.stderr, "Erasing member %s deletes their personal data for good. Type the external id to confirm: ", argv[0])
				line, _ := bufio.NewReader(a.stdin).ReadString('\n')
				if strings.TrimSpace(line) != argv[0] {
					fmt.Fprintln(a.stderr)
					return usagef("erasure not confirmed: type the member's external id, or pass --yes")
				}
			}
			id, err := a.svc.EraseMember(a.ctx, actor, argv[0])
			if err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "erased member %d (external id %s); email and phone stay suppressed\n", id, argv[0])
			return nil
		},
	}
	erase.Flags().BoolVar(&yes, "yes", false, "do not ask for confirmation")
	readmit := &cobra.Command{
		Use:   "readmit EXTERNAL_ID",
		Short: "Let an erased member's external id be imported again, when the person has signed up anew",
		Args:  args(1, "EXTERNAL_ID"),
		RunE: func(cmd *cobra.Command, argv []string) error {
			actor, err := a.actor()
			if err != nil {
				return err
			}
			if err := a.svc.ReadmitMember(a.ctx, actor, argv[0]); err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "external id %s may be imported again\n", argv[0])
			return nil
		},
	}
	return group(cmd, imp, export, erase, readmit)
}

// importFile runs an import of the file at path on behalf of the acting user. do reads the file into
// the store and returns the rejected rows and a summary: the summary goes to stdout, each rejected
// row to stderr, and rejected rows make the command fail (exit 1) after the good rows were imported.
func (a *app) importFile(path string, do func(f *os.File, name string, actor campaigns.User) ([]campaigns.RowError, string, error)) error {
	actor, err := a.actor()
	if err != nil {
		return err
	}
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	name := filepath.Base(path)
	rejected, summary, err := do(f, name, actor)
	if err != nil {
		return err
	}
	for _, r := range rejected {
		fmt.Fprintf(a.stderr, "%s: %s\n", name, r.Error())
	}
	fmt.Fprintln(a.stdout, summary)
	if len(rejected) > 0 {
		return fmt.Errorf("%s: %d rows rejected (listed above); the other rows were imported", name, campaigns.RejectedRows(rejected))
	}
	return nil
}

func (a *app) purchasesCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "purchases", Short: "Import the purchases registered to memberships"}
	return group(cmd, &cobra.Command{
		Use:   "import FILE.csv",
		Short: "Import purchases: external_id,purchased_at,amount_eur,store,order_ref (a re-import adds nothing)",
		Args:  args(1, "FILE.csv"),
		RunE: func(cmd *cobra.Command, argv []string) error {
			return a.importFile(argv[0], func(f *os.File, name string, actor campaigns.User) ([]campaigns.RowError, string, error) {
				res, err := a.svc.ImportPurchases(a.ctx, actor, f, name)
				return res.Rejections, fmt.Sprintf("added %d, rejected %d", res.Added, campaigns.RejectedRows(res.Rejections)), err
			})
		},
	})
}

func (a *app) consentCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "consent", Short: "Record members' consents"}
	var source, wording string
	set := &cobra.Command{
		Use:   "set EXTERNAL_ID CHANNEL granted|withdrawn",
		Short: "Record a consent event for a member (email, sms, or postal: withdrawn = objection)",
		Args:  args(3, "EXTERNAL_ID CHANNEL granted|withdrawn"),
		RunE: func(cmd *cobra.Command, argv []string) error {
			ch, err := campaigns.ParseChannel(argv[1])
			if err != nil {
				return usagef("CHANNEL: %v", err)
			}
			st, err := campaigns.ParseConsentStatus(argv[2])
			if err != nil {
				return usagef("%v", err)
			}
			if source == "" {
				return usagef("--source is required (one of signup-form, customer-service, unsubscribe-link, sms-stop, import, population-register)")
			}
			src, err := campaigns.ParseConsentSource(source)
			if err != nil {
				return usagef("--source: %v", err)
			}
			actor, err := a.actor()
			if err != nil {
				return err
			}
			ev, err := a.svc.SetConsent(a.ctx, actor, argv[0], campaigns.ConsentChange{Channel: ch, Status: st, Source: src, WordingVersion: wording})
			if err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "recorded consent event %d: %s %s (source %s)\n", ev.ID, ch, st, src)
			return nil
		},
	}
	set.Flags().StringVar(&source, "source", "", "where the consent came from (required)")
	set.Flags().StringVar(&wording, "wording", "", "version of the consent wording the member saw")
	return group(cmd, set)
}

func (a *app) suppressionsCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "suppressions", Short: "Keep the direct-marketing ban list and bounces"}
	var reason string
	imp := &cobra.Command{
		Use:   "import FILE.csv --reason robinson|bounce|complaint|manual",
		Short: "Add channel,value rows (email, E.164 phone, or postal LAST_NAME|STREET|POSTAL_CODE) to the suppression list",
		Args:  args(1, "FILE.csv"),
		RunE: func(cmd *cobra.Command, argv []string) error {
			if reason == "" {
				return usagef("--reason is required: robinson, bounce, complaint or manual")
			}
			why, err := campaigns.ParseSuppressionReason(reason)
			if err != nil {
				return usagef("--%v", err)
			}
			return a.importFile(argv[0], func(f *os.File, name string, actor campaigns.User) ([]campaigns.RowError, string, error) {
				res, err := a.svc.ImportSuppressions(a.ctx, actor, f, name, why)
				return res.Rejections, fmt.Sprintf("added %d, rejected %d", res.Added, campaigns.RejectedRows(res.Rejections)), err
			})
		},
	}
	imp.Flags().StringVar(&reason, "reason", "", "robinson, bounce, complaint or manual (required)")
	return group(cmd, imp)
}
