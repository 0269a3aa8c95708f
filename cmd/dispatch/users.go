package main

import (
	"encoding/json"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/jacksmood/dispatch/campaigns"
)

func (a *app) usersCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "users", Short: "Manage the named users who hold API tokens"}
	var role string
	add := &cobra.Command{
		Use:   "add NAME --role marketer|ops|privacy|admin",
		Short: "Add a named user and print their API token (shown once; only its hash is stored)",
		Args:  args(1, "NAME"),
		RunE: func(cmd *cobra.Command, argv []string) error {
			r, err := campaigns.ParseRole(role)
			if err != nil {
				return usagef("--role: %v", err)
			}
			svc, err := a.service()
			if err != nil {
				return err
			}
			actor, err := a.operator()
			if isKind(err, campaigns.ErrNotFound) {
				// The first users are added before any exists: the named user is the one being
				// added, so the operating-system account adds it.
				actor, err = a.osUser(), nil
			}
			if err != nil {
				return err
			}
			u, token, err := svc.AddUser(a.ctx, actor, argv[0], r)
			if err != nil {
				return err
			}
			fmt.Fprintf(a.stderr, "added user %s (%s); the token below is shown this once and works until %s:\n", u.Name, u.Role,
				u.TokenExpiresAt.In(a.cfg.Timezone).Format("2006-01-02 15:04 MST"))
			fmt.Fprintln(a.stdout, token)
			return nil
		},
	}
	add.Flags().StringVar(&role, "role", "", "marketer, ops, privacy or admin (required)")
	var asJSON bool
	list := &cobra.Command{
		Use:   "list [--json]",
		Short: "List the users: name, role, when added, when their token was made, disabled or not",
		Args:  args(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			svc, actor, err := a.operatorService()
			if err != nil {
				return err
			}
			us, err := svc.Users(a.ctx, actor)
			if err != nil {
				return err
			}
			if asJSON {
				return json.NewEncoder(a.stdout).Encode(us)
			}
			tz := a.cfg.Timezone
			w := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintf(w, "NAME\tROLE\tADDED\tTOKEN MADE\tTOKEN EXPIRES\tSTATE\t(times %s)\n", tz)
			for _, u := range us {
				state := "active"
				if u.DisabledAt != nil {
					state = "disabled " + u.DisabledAt.In(tz).Format("2006-01-02 15:04")
				}
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t\n", u.Name, u.Role, u.CreatedAt.In(tz).Format("2006-01-02 15:04"),
					u.TokenRotatedAt.In(tz).Format("2006-01-02 15:04"), u.TokenExpiresAt.In(tz).Format("2006-01-02 15:04"), state)
			}
			return w.Flush()
		},
	}
	list.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	disable := &cobra.Command{
		Use:   "disable NAME",
		Short: "Disable a user for good: their token stops working at once",
		Args:  args(1, "NAME"),
		RunE: func(cmd *cobra.Command, argv []string) error {
			svc, actor, err := a.operatorService()
			if err != nil {
				return err
			}
			if _, err := svc.DisableUser(a.ctx, actor, argv[0]); err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "user %s disabled\n", argv[0])
			return nil
		},
	}
	rotate := &cobra.Command{
		Use:   "rotate NAME",
		Short: "Give a user a new API token (printed once); the old one stops working at once",
		Args:  args(1, "NAME"),
		RunE: func(cmd *cobra.Command, argv []string) error {
			svc, actor, err := a.operatorService()
			if err != nil {
				return err
			}
			u, token, err := svc.RotateToken(a.ctx, actor, argv[0])
			if err != nil {
				return err
			}
			fmt.Fprintf(a.stderr, "new token for %s (%s); shown this once, works until %s; the old one no longer works:\n", u.Name, u.Role,
				u.TokenExpiresAt.In(a.cfg.Timezone).Format("2006-01-02 15:04 MST"))
			fmt.Fprintln(a.stdout, token)
			return nil
		},
	}
	return group(cmd, add, list, disable, rotate)
}

func (a *app) auditCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "audit", Short: "Read the audit log of privileged actions"}
	var since, member, user, action string
	var asJSON bool
	list := &cobra.Command{
		Use:   "list [--since TIME] [--member ID] [--user NAME] [--action A] [--json]",
		Short: "List audit entries: who exported, erased, imported, changed consents or campaigns, and when",
		Args:  args(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			from := time.Time{}
			if since != "" {
				t, err := parseTimeOrDuration(since, time.Now())
				if err != nil {
					return usagef("--since: %v", err)
				}
				from = t
			}
			svc, actor, err := a.operatorService()
			if err != nil {
				return err
			}
			entries, err := svc.AuditLog(a.ctx, actor, campaigns.AuditFilter{Since: from, MemberExternalID: member,
				Actor: user, Action: campaigns.AuditAction(action)})
			if err != nil {
				return err
			}
			if asJSON {
				return json.NewEncoder(a.stdout).Encode(entries)
			}
			w := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintf(w, "ID\tAT (%s)\tACTOR\tACTION\tMEMBER\tDETAILS\n", a.cfg.Timezone)
			for _, e := range entries {
				who := "-"
				if e.MemberExternalID != nil {
					who = *e.MemberExternalID
				} else if e.MemberID != nil {
					who = fmt.Sprintf("#%d", *e.MemberID)
				}
				fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%s\t%s\n", e.ID, e.At.In(a.cfg.Timezone).Format("2006-01-02 15:04:05"), e.Actor, e.Action, who, e.Details)
			}
			return w.Flush()
		},
	}
	list.Flags().StringVar(&since, "since", "", "RFC 3339 time, a date (2026-11-01) or a duration back from now (24h, 7d)")
	list.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	list.Flags().StringVar(&member, "member", "", "only entries about this member (external id; erased members too)")
	list.Flags().StringVar(&user, "user", "", "only entries by this user")
	list.Flags().StringVar(&action, "action", "", "only this action (members.export, members.erase, consent.set, campaigns.schedule, ...)")
	return group(cmd, list)
}

// parseTimeOrDuration accepts an RFC 3339 time, a date, or a duration before now ("36h", "7d").
func parseTimeOrDuration(s string, now time.Time) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse("2006-01-02", s); err == nil {
		return t, nil
	}
	if d, ok := parseDays(s); ok {
		return now.Add(-d), nil
	}
	if d, err := time.ParseDuration(s); err == nil && d > 0 {
		return now.Add(-d), nil
	}
	return time.Time{}, fmt.Errorf("%q is not a time (2026-11-01T09:00:00+02:00), a date (2026-11-01) or a duration (24h, 7d)", s)
}

func parseDays(s string) (time.Duration, bool) {
	var n int
	if _, err := fmt.Sscanf(s, "%dd", &n); err != nil || n <= 0 || fmt.Sprintf("%dd", n) != s {
		return 0, false
	}
	return time.Duration(n) * 24 * time.Hour, true
}
