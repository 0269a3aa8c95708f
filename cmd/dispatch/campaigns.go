package main

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/jacksmood/dispatch/campaigns"
	"github.com/jacksmood/dispatch/campaigns/campaignfile"
	"github.com/jacksmood/dispatch/campaigns/service"
)

func (a *app) campaignsCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "campaigns", Short: "Define, schedule and watch campaigns"}
	var file, at string
	var asJSON, watch, again bool
	var runID int64
	create := &cobra.Command{
		Use:   "create -f FILE.yaml",
		Short: "Check a campaign file and store it as a draft; prints the new id",
		Long: `Check a campaign file and store it as a draft; prints the new id.

The file is YAML. Two commented examples ship with dispatch: campaigns/examples/coupon.yaml (a
coupon offer by email, SMS and post) and campaigns/examples/newsletter.yaml (a weekly newsletter);
the README's "Campaign file" section describes every field. Unknown fields and bad values are
refused with FILE:LINE: field: reason, and the templates are rendered for a sample member on every
channel in every language before the campaign is stored.`,
		Args: args(0, "no arguments (the file goes with -f)"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if file == "" {
				return usagef("-f FILE.yaml is required")
			}
			data, err := os.ReadFile(file)
			if err != nil {
				return err
			}
			spec, err := campaignfile.DecodeYAML(data, filepath.Base(file))
			if err != nil {
				return err
			}
			actor, err := a.operator()
			if err != nil {
				return err
			}
			svc, err := a.service()
			if err != nil {
				return err
			}
			c, err := svc.CreateCampaign(a.ctx, actor, spec)
			if err != nil {
				return fmt.Errorf("%s: %w", filepath.Base(file), err)
			}
			fmt.Fprintln(a.stdout, c.ID)
			return nil
		},
	}
	create.Flags().StringVarP(&file, "file", "f", "", "campaign file (YAML)")

	list := &cobra.Command{
		Use:   "list [--json]",
		Short: "List campaigns",
		Args:  args(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			svc, actor, err := a.operatorService()
			if err != nil {
				return err
			}
			cs, err := svc.Campaigns(a.ctx, actor)
			if err != nil {
				return err
			}
			if asJSON {
				return json.NewEncoder(a.stdout).Encode(cs)
			}
			w := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "ID\tNAME\tKIND\tCHANNELS\tSTATUS\tNEXT RUN")
			for _, c := range cs {
				next := "-"
				if c.NextRunAt != nil {
					next = c.NextRunAt.In(a.cfg.Timezone).Format("2006-01-02 15:04")
				}
				fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%s\t%s\n", c.ID, c.Name, c.Kind, channelList(c.Spec.Channels), c.Status, next)
			}
			return w.Flush()
		},
	}
	list.Flags().BoolVar(&asJSON, "json", false, "print JSON")

	show := &cobra.Command{
		Use:   "show ID [--json]",
		Short: "Show a campaign's definition and state",
		Args:  args(1, "ID"),
		RunE: func(cmd *cobra.Command, argv []string) error {
			c, err := a.loadCampaign(argv[0])
			if err != nil {
				return err
			}
			if asJSON {
				return json.NewEncoder(a.stdout).Encode(c)
			}
			b, _ := json.MarshalIndent(c.Spec, "  ", "  ")
			fmt.Fprintf(a.stdout, "campaign %d: %s\n  kind %s, status %s, created by %s at %s\n  spec %s\n",
				c.ID, c.Name, c.Kind, c.Status, c.CreatedBy, c.CreatedAt.In(a.cfg.Timezone).Format(time.RFC3339), b)
			return nil
		},
	}
	show.Flags().BoolVar(&asJSON, "json", false, "print JSON")

	schedule := &cobra.Command{
		Use:   "schedule ID [--at TIME] [--again]",
		Short: "Schedule a campaign: at --at, else its schedule (at or cron), else now; a finished one only with --again",
		Args:  args(1, "ID"),
		RunE: func(cmd *cobra.Command, argv []string) error {
			svc, actor, id, err := a.campaignOperator(argv[0])
			if err != nil {
				return err
			}
			sc, err := svc.Schedule(a.ctx, actor, id, service.ScheduleOptions{At: at, Again: again})
			if isKind(err, campaigns.ErrInvalid) {
				return usagef("--%v", err)
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "campaign %d scheduled for %s\n", sc.ID, sc.ScheduledFor.In(a.cfg.Timezone).Format("2006-01-02 15:04:05 MST"))
			if again && sc.AlreadySent > 0 {
				fmt.Fprintf(a.stdout, "it is sent again: %d members already got it\n", sc.AlreadySent)
			}
			return nil
		},
	}
	schedule.Flags().BoolVar(&again, "again", false, "send a campaign that has finished once more, to its whole segment")
	schedule.Flags().StringVar(&at, "at", "", "when: 2026-12-01T09:00:00+02:00, or 2026-12-01T09:00 in DISPATCH_TIMEZONE")

	type change func(ctx context.Context, actor campaigns.User, id int64) (campaigns.Campaign, error)
	state := func(use, short string, change func(svc *service.Service) change, done string) *cobra.Command {
		return &cobra.Command{
			Use:   use + " ID",
			Short: short,
			Args:  args(1, "ID"),
			RunE: func(cmd *cobra.Command, argv []string) error {
				svc, actor, id, err := a.campaignOperator(argv[0])
				if err != nil {
					return err
				}
				if _, err := change(svc)(a.ctx, actor, id); err != nil {
					return err
				}
				fmt.Fprintf(a.stdout, "campaign %d %s\n", id, done)
				return nil
			},
		}
	}
	pause := state("pause", "Pause a campaign: workers stop sending within seconds",
		func(svc *service.Service) change { return svc.Pause }, "paused")
	resume := state("resume", "Resume a paused campaign",
		func(svc *service.Service) change { return svc.Resume }, "resumed")
	cancel := state("cancel", "Cancel a campaign: what was not sent is marked cancelled",
		func(svc *service.Service) change { return svc.Cancel }, "cancelled")

	status := &cobra.Command{
		Use:   "status ID [--run N] [--watch] [--json]",
		Short: "Progress of the campaign's latest run (or run N) per channel (--watch: live until it ends)",
		Args:  args(1, "ID"),
		RunE: func(cmd *cobra.Command, argv []string) error {
			svc, actor, id, err := a.campaignOperator(argv[0])
			if err != nil {
				return err
			}
			for {
				st, err := svc.RunStats(a.ctx, actor, id, runID)
				if err != nil {
					return err
				}
				if asJSON {
					if err := json.NewEncoder(a.stdout).Encode(st); err != nil {
						return err
					}
				} else {
					fmt.Fprint(a.stdout, renderStatus(st, watch))
				}
				if !watch || st.Status == campaigns.StatusFinished || st.Status == campaigns.StatusCancelled || st.Status == campaigns.StatusDraft {
					return nil
				}
				select {
				case <-a.ctx.Done():
					return nil
				case <-time.After(time.Second):
				}
			}
		},
	}
	status.Flags().BoolVar(&watch, "watch", false, "refresh every second until the run ends")
	status.Flags().Int64Var(&runID, "run", 0, "a run of the campaign (see campaigns runs ID); default its latest")
	runs := &cobra.Command{
		Use:   "runs ID [--json]",
		Short: "The campaign's runs, newest first: when, state, sent and failed",
		Args:  args(1, "ID"),
		RunE: func(cmd *cobra.Command, argv []string) error {
			svc, actor, id, err := a.campaignOperator(argv[0])
			if err != nil {
				return err
			}
			rs, err := svc.Runs(a.ctx, actor, id)
			if err != nil {
				return err
			}
			if asJSON {
				return json.NewEncoder(a.stdout).Encode(rs)
			}
			tz := a.cfg.Timezone
			w := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintf(w, "RUN\tSCHEDULED FOR (%s)\tSTATUS\tFINISHED\tSENT\tFAILED\n", tz)
			for _, r := range rs {
				finished := "-"
				if r.FinishedAt != nil {
					finished = r.FinishedAt.In(tz).Format("2006-01-02 15:04:05")
				}
				fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%d\t%d\n", r.ID, r.ScheduledFor.In(tz).Format("2006-01-02 15:04:05"), r.Status, finished, r.Sent, r.Failed)
			}
			return w.Flush()
		},
	}
	runs.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	status.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return group(cmd, create, list, show, schedule, pause, resume, cancel, status, runs, a.previewCommand(), a.testSendCommand())
}

// loadCampaign reads the campaign that the command line's ID names.
func (a *app) loadCampaign(arg string) (campaigns.Campaign, error) {
	svc, actor, id, err := a.campaignOperator(arg)
	if err != nil {
		return campaigns.Campaign{}, err
	}
	return svc.Campaign(a.ctx, actor, id)
}

// campaignOperator reads the campaign id of the command line (a usage error when it is not one) and
// returns it with the service and the acting user of a command an operator may run.
func (a *app) campaignOperator(arg string) (*service.Service, campaigns.User, int64, error) {
	id, err := campaignID(arg)
	if err != nil {
		return nil, campaigns.User{}, 0, err
	}
	svc, actor, err := a.operatorService()
	return svc, actor, id, err
}

// operatorService returns the service and the acting user of a command an operator may run.
func (a *app) operatorService() (*service.Service, campaigns.User, error) {
	actor, err := a.operator()
	if err != nil {
		return nil, actor, err
	}
	svc, err := a.service()
	return svc, actor, err
}

func campaignID(s string) (int64, error) {
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id <= 0 {
		return 0, usagef("campaign id %q is not a positive number", s)
	}
	return id, nil
}

func channelList(chs []campaigns.Channel) string {
	s := make([]string, len(chs))
	for i, c := range chs {
		s[i] = string(c)
	}
	return strings.Join(s, ",")
}

// renderStatus draws one line per channel with a progress bar in which sent (#), failed (x),
// skipped or cancelled (-) and queued (.) deliveries each have their own mark, so that a bar far
// along with few messages sent reads as what it is.
func renderStatus(st campaigns.Stats, live bool) string {
	var b strings.Builder
	if live {
		b.WriteString("\033[H\033[2J")
	}
	fmt.Fprintf(&b, "campaign %d: %s", st.ID, st.Status)
	if st.RunID != 0 {
		fmt.Fprintf(&b, " (run %d)", st.RunID)
	}
	b.WriteString("\n")
	chs := make([]string, 0, len(st.Channels))
	for ch := range st.Channels {
		chs = append(chs, string(ch))
	}
	sort.Strings(chs)
	const width = 30
	for _, ch := range chs {
		c := st.Channels[campaigns.Channel(ch)]
		final := c.Sent + c.Failed + c.Skipped + c.Cancel
		fmt.Fprintf(&b, "  %-6s [%s] %3d%% done  sent %d, failed %d, skipped %d, queued %d of %d", ch,
			bar(width, c.Total, []int64{c.Sent, c.Failed, c.Skipped + c.Cancel}, "#x-"), percent(final, c.Total),
			c.Sent, c.Failed, c.Skipped, c.Queued, c.Total)
		if c.Cancel > 0 {
			fmt.Fprintf(&b, ", cancelled %d", c.Cancel)
		}
		b.WriteString("\n")
		if len(c.Reasons) > 0 {
			keys := slices.Sorted(maps.Keys(c.Reasons))
			parts := make([]string, len(keys))
			for i, k := range keys {
				parts[i] = fmt.Sprintf("%s %d", k, c.Reasons[k])
			}
			fmt.Fprintf(&b, "         skipped: %s\n", strings.Join(parts, ", "))
		}
	}
	b.WriteString("  (# sent, x failed, - skipped or cancelled, . queued)\n")
	return b.String()
}

// bar draws parts of total in width characters, each part with its mark, the rest as dots. Each
// part ends where its running total falls, so rounding never adds up to more than the bar.
func bar(width int, total int64, parts []int64, marks string) string {
	out := []byte(strings.Repeat(".", width))
	if total <= 0 {
		return string(out)
	}
	var sum int64
	start := 0
	for i, n := range parts {
		sum += n
		end := int(min(sum, total) * int64(width) / total)
		for j := start; j < end; j++ {
			out[j] = marks[i]
		}
		start = max(start, end)
	}
	return string(out)
}

func percent(n, of int64) int64 {
	if of == 0 {
		return 0
	}
	return n * 100 / of
}
