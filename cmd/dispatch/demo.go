package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/jacksmood/dispatch/campaigns"
	"github.com/jacksmood/dispatch/campaigns/service"
	"github.com/jacksmood/dispatch/internal/mailcatcher"
	"github.com/jacksmood/dispatch/scheduler"
	"github.com/jacksmood/dispatch/worker"
)

// demoCampaign is the sample campaign the demo runs.
var demoCampaign = campaigns.Spec{
	Name:     "Demo: joulukuponki 2026",
	Kind:     campaigns.KindCoupon,
	Channels: []campaigns.Channel{campaigns.Email, campaigns.SMS, campaigns.Postal},
	Template: "coupon",
	Segment:  campaigns.Segment{Languages: []campaigns.Language{campaigns.Finnish, campaigns.Swedish, campaigns.English}},
	Coupon:   &campaigns.CouponSpec{Discount: "-20 %", ValidDays: 30},
}

func (a *app) demoCommand() *cobra.Command {
	var members int
	var out string
	var serve bool
	cmd := &cobra.Command{
		Use:   "demo [--members N] [--out DIR] [--serve=false]",
		Short: "The single-machine demo: migrate, seed members, run a coupon campaign through scheduler and worker",
		Long: `demo needs only PostgreSQL and Redis. It creates the schema, seeds demo members (once), creates
a coupon campaign and runs it through the scheduler and a worker in this one process. Unless
DISPATCH_SMTP_URL is set, an embedded SMTP catcher writes each email as an .eml file under
DIR/mail/. At the end it prints what was sent, skipped and why, and where to look, and goes on
serving the demo's unsubscribe links (and the API) until Ctrl-C, so that a link in a demo email
works when opened. Its DISPATCH_SECRET is kept in DIR/secret for the next run.`,
		Args: args(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.demo(members, out, serve)
		},
	}
	cmd.Flags().BoolVar(&serve, "serve", true, "serve the demo's links until Ctrl-C (false: exit when the campaign is done)")
	cmd.Flags().IntVar(&members, "members", 2000, "demo members to seed into an empty register")
	cmd.Flags().StringVar(&out, "out", "demo-out", "where the demo's email and outputs go")
	return cmd
}

func (a *app) demo(members int, out string, serve bool) error {
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	secretPath, keyPath := filepath.Join(out, "secret"), filepath.Join(out, "suppression-key")
	if a.cfg.Secret == "" {
		secret, err := demoSecret(secretPath)
		if err != nil {
			return err
		}
		a.cfg.Secret = secret
	}
	if a.cfg.SuppressionKey == "" {
		key, err := demoSecret(keyPath)
		if err != nil {
			return err
		}
		a.cfg.SuppressionKey = key
	}
	serveHint := fmt.Sprintf("DISPATCH_SECRET=$(cat %s) DISPATCH_SUPPRESSION_KEY=$(cat %s) %s serve", secretPath, keyPath, progName())
	// The demo serves its own links (the public listener: unsubscribe pages) and the staff listener
	// (API, dashboard) while it runs, so that a link in a demo email works when opened: it listens
	// before anything is sent, and the links point there. A port in use gives way to a free one.
	var staffLn, publicLn net.Listener
	if serve {
		var err error
		if publicLn, err = net.Listen("tcp", a.cfg.PublicAddr); err != nil && !a.cfg.PublicURLSet {
			publicLn, err = net.Listen("tcp", "127.0.0.1:0")
		}
		if err != nil {
			return fmt.Errorf("demo: serve its links: %w (DISPATCH_PUBLIC_ADDR)", err)
		}
		if !a.cfg.PublicURLSet {
			a.cfg.PublicURL = "http://" + publicLn.Addr().String()
		}
		if staffLn, err = net.Listen("tcp", a.cfg.HTTPAddr); err != nil {
			staffLn, err = net.Listen("tcp", "127.0.0.1:0")
		}
		if err != nil {
			publicLn.Close()
			return fmt.Errorf("demo: serve: %w (DISPATCH_HTTP_ADDR)", err)
		}
		a.cfg.HTTPAddr = staffLn.Addr().String()
	}
	if _, err := createDatabase(a.ctx, a.cfg.DatabaseURL); err != nil {
		return err
	}
	s, err := a.openStore()
	if err != nil {
		return err
	}
	if _, err := s.Migrate(a.ctx); err != nil {
		return err
	}
	if err := s.AdoptRegisterKey(a.ctx); errors.Is(err, campaigns.ErrRegisterKeyMismatch) {
		return fmt.Errorf("the register in DISPATCH_DATABASE_URL was made with another suppression key than %s: "+
			"run the demo with the output folder of that run (--out) or on another database", keyPath)
	} else if err != nil {
		return err
	}
	fmt.Fprintln(a.stdout, "schema ready")
	// The store and the service are opened before anything else runs beside the demo: the server
	// below shares them.
	svc, err := a.service()
	if err != nil {
		return err
	}
	if serve {
		served := make(chan error, 1)
		go func() { served <- a.serve(staffLn, publicLn, serveTimeouts{}) }()
		defer func() {
			<-served // a.serve returns when the demo's context ends
		}()
	}
	// The demo acts as its own administrator, and its actions are audited as "demo".
	demo := campaigns.User{Name: "demo", Role: campaigns.RoleAdmin}
	res, err := svc.Seed(a.ctx, demo, members, 1)
	switch {
	case errors.Is(err, campaigns.ErrConflict):
		fmt.Fprintln(a.stdout, "the register already holds the demo members: not seeding again")
	case err != nil:
		return err
	default:
		fmt.Fprintf(a.stdout, "seeded %d members (%d consent events, %d purchases)\n", res.Members, res.Consents, res.Purchases)
	}

	mailDir := filepath.Join(out, "mail")
	if !a.cfg.SMTPURLSet {
		if err := os.MkdirAll(mailDir, 0o755); err != nil {
			return err
		}
		catcher, err := mailcatcher.Start("127.0.0.1:0", mailDir, false)
		if err != nil {
			return err
		}
		defer catcher.Close()
		a.cfg.SMTPURL = catcher.URL()
		fmt.Fprintf(a.stdout, "embedded SMTP catcher on %s writes each email to %s/\n", catcher.Addr(), mailDir)
	}

	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	smsPath := filepath.Join(out, "sms.log")
	smsLog, err := os.OpenFile(smsPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer smsLog.Close()
	if a.getenv("DISPATCH_SMS_URL") == "" {
		fmt.Fprintf(a.stdout, "SMS go to %s\n", smsPath)
	}

	printDir := a.cfg.PrintDir
	if a.getenv("DISPATCH_PRINT_DIR") == "" {
		printDir = filepath.Join(out, "print")
	}

	c, fresh, err := a.demoCampaign(svc, demo)
	if err != nil {
		return err
	}
	var st campaigns.Stats
	t0 := time.Now()
	if !fresh && c.Status == campaigns.StatusFinished {
		// The demo never sends twice to the same register: its campaign went out already.
		fmt.Fprintf(a.stdout, "campaign %d %q was sent already to this register; it is not sent twice. Its figures:\n\n", c.ID, c.Name)
		if st, err = svc.Stats(a.ctx, demo, c.ID); err != nil {
			return err
		}
	} else {
		if st, err = a.demoRun(svc, demo, c, smsLog, printDir); err != nil {
			return err
		}
		if st.Status != campaigns.StatusFinished {
			return nil // interrupted: demoRun said so
		}
		fmt.Fprintf(a.stdout, "finished in %s\n\n", time.Since(t0).Round(time.Millisecond))
	}
	fmt.Fprint(a.stdout, renderStatus(st, false))
	codes, err := svc.CouponCodes(a.ctx, demo, c.ID, 1)
	if err != nil {
		return err
	}
	prog := progName()
	fmt.Fprintf(a.stdout, "\nwhere to look:\n")
	w := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
	if !a.cfg.SMTPURLSet {
		fmt.Fprintf(w, "  %s/*.eml\tthe emails, as the members' mail servers got them\n", mailDir)
	}
	fmt.Fprintf(w, "  %s\tthe SMS (log:// gateway)\n", smsPath)
	fmt.Fprintf(w, "  %s/\tthe print batches: PDF, CSV manifest, SHA-256 sums\n", printDir)
	fmt.Fprintf(w, "  %s campaigns status %d\tthe run's figures (--json for JSON)\n", prog, c.ID)
	if len(codes) > 0 {
		fmt.Fprintf(w, "  %s coupons show %s\ta coupon code from the ledger\n", prog, codes[0])
	}
	fmt.Fprintf(w, "  %s audit list\twhat was done, and by whom\n", prog)
	w.Flush()
	if !serve {
		fmt.Fprintf(a.stdout, "\nThe unsubscribe links in the demo's emails work while the demo's secret is used:\n  %s\n", serveHint)
		return nil
	}
	token, err := a.demoLogin(svc, demo, out)
	if err != nil {
		return err
	}
	scheme := "http"
	if a.cfg.TLSCert != "" {
		scheme = "https"
	}
	fmt.Fprintf(a.stdout, "\nThe console: %s://%s/\n  sign in as demo with the token %s (kept in %s)\n",
		scheme, a.cfg.HTTPAddr, token, filepath.Join(out, "console-token"))
	fmt.Fprintf(a.stdout, "\nThe unsubscribe links in the demo's emails work while the demo runs: it serves them at %s\n"+
		"(afterwards: %s). Press Ctrl-C to stop.\n", a.cfg.PublicURL, serveHint)
	<-a.ctx.Done()
	return nil
}

// demoLogin gives the console a user for the demo: demo, an admin, with a new token on each run (the
// previous one stops working), kept in out/console-token (mode 0600).
func (a *app) demoLogin(svc *service.Service, demo campaigns.User, out string) (string, error) {
	_, token, err := svc.AddUser(a.ctx, demo, demo.Name, campaigns.RoleAdmin)
	if errors.Is(err, campaigns.ErrConflict) {
		_, token, err = svc.RotateToken(a.ctx, demo, demo.Name)
	}
	if err != nil {
		return "", fmt.Errorf("demo: the console's user: %w", err)
	}
	if err := os.WriteFile(filepath.Join(out, "console-token"), []byte(token+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("demo: keep the console's token: %w", err)
	}
	return token, nil
}

// demoSecret returns one of the demo's keys (DISPATCH_SECRET, DISPATCH_SUPPRESSION_KEY), kept in
// path (mode 0600) so that every demo run on this output folder uses the same (its links keep
// working, its register's hashes keep matching); the first run draws it.
func demoSecret(path string) (string, error) {
	if b, err := os.ReadFile(path); err == nil && len(strings.TrimSpace(string(b))) >= 32 {
		return strings.TrimSpace(string(b)), nil
	}
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	secret := hex.EncodeToString(b)
	if err := os.WriteFile(path, []byte(secret+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("demo: keep its secret: %w", err)
	}
	return secret, nil
}

// progName is how to call this program in a hint that can be pasted: "./dispatch" when it was
// built in the current folder, else "dispatch".
func progName() string {
	exe, err := os.Executable()
	if err != nil {
		return "dispatch"
	}
	wd, err := os.Getwd()
	if err != nil {
		return "dispatch"
	}
	rel, err := filepath.Rel(wd, exe)
	if err != nil || strings.HasPrefix(rel, "..") {
		return "dispatch"
	}
	return "./" + rel
}

// demoCampaign finds the demo's campaign in the register, or creates and schedules it; fresh says it
// was created now. A campaign that an interrupted demo paused is resumed; a cancelled one is an error
// naming what to do, since resending would reach members twice.
func (a *app) demoCampaign(svc *service.Service, demo campaigns.User) (c campaigns.Campaign, fresh bool, err error) {
	all, err := svc.Campaigns(a.ctx, demo)
	if err != nil {
		return c, false, err
	}
	for _, existing := range all {
		if existing.Name != demoCampaign.Name {
			continue
		}
		switch existing.Status {
		case campaigns.StatusPaused:
			fmt.Fprintf(a.stdout, "campaign %d %q was paused by an interrupted demo; resuming it\n", existing.ID, existing.Name)
			c, err = svc.Resume(a.ctx, demo, existing.ID)
			return c, false, err
		case campaigns.StatusCancelled:
			return existing, false, fmt.Errorf("the demo's campaign %d was cancelled; the demo does not send it again (use a fresh database: DISPATCH_DATABASE_URL)", existing.ID)
		}
		return existing, false, nil
	}
	spec := demoCampaign
	if c, err = svc.CreateCampaign(a.ctx, demo, &spec); err != nil {
		return c, true, err
	}
	if _, err := svc.Schedule(a.ctx, demo, c.ID, service.ScheduleOptions{}); err != nil {
		return c, true, err
	}
	fmt.Fprintf(a.stdout, "campaign %d %q scheduled now\n", c.ID, spec.Name)
	return c, true, nil
}

// demoRun runs the scheduler and a worker in this process until the campaign has finished. When the
// demo is interrupted (Ctrl-C) it pauses the campaign, so that nothing goes on sending by itself
// later, and says how to finish it.
func (a *app) demoRun(svc *service.Service, demo campaigns.User, c campaigns.Campaign, smsLog io.Writer, printDir string) (campaigns.Stats, error) {
	fmt.Fprintf(a.stdout, "running the scheduler and a worker for campaign %d...\n", c.ID)
	ctx, stop := context.WithCancel(context.WithoutCancel(a.ctx))
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	s, err := a.openStore()
	if err != nil {
		stop()
		return campaigns.Stats{}, err
	}
	wg.Add(2)
	go func() {
		defer wg.Done()
		// The demo runs whatever the hour: no quiet hours for its SMS.
		errs <- a.runScheduler(ctx, s, scheduler.Config{Interval: 200 * time.Millisecond}, campaigns.QuietHours{})
	}()
	go func() {
		defer wg.Done()
		errs <- a.runWorker(ctx, s, workerOptions{server: worker.ServerConfig{Concurrency: 4}, lease: time.Minute, smsLog: smsLog, printDir: printDir})
	}()
	var st campaigns.Stats
	for {
		st, err = svc.Stats(ctx, demo, c.ID)
		if err != nil || st.Status == campaigns.StatusFinished {
			break
		}
		select {
		case err = <-errs:
		case <-a.ctx.Done():
			// Interrupted: pause first, while the worker may still be sending, then stop.
			if _, perr := svc.Pause(ctx, demo, c.ID); perr != nil {
				err = perr
				break
			}
			stop()
			wg.Wait()
			fmt.Fprintf(a.stdout, "\ninterrupted: campaign %d is paused, and nothing sends it meanwhile; run the demo again to finish it\n", c.ID)
			return st, nil
		case <-time.After(300 * time.Millisecond):
		}
		if err != nil {
			break
		}
	}
	stop()
	wg.Wait()
	return st, err
}
