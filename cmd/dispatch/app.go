package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/jacksmood/dispatch/campaigns"
	"github.com/jacksmood/dispatch/campaigns/service"
	"github.com/jacksmood/dispatch/templates"
	"github.com/jacksmood/dispatch/worker"
	"github.com/jacksmood/dispatch/worker/compose"
	"github.com/jacksmood/dispatch/worker/email"
	"github.com/jacksmood/dispatch/worker/print"
	"github.com/jacksmood/dispatch/worker/sms"
)

// usageError is a mistake in how the command was called: exit status 2.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func usagef(format string, args ...any) error { return usageError{fmt.Errorf(format, args...)} }

// app holds what the commands share: the streams, the environment and, once opened, the store.
type app struct {
	ctx    context.Context
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	getenv func(string) string
	cfg    *config
	store  store
	svc    *service.Service
	log    *slog.Logger
	// closers are called when the command ends.
	closers []func() error
}

// run executes one dispatch command line and returns its exit status: 0 success, 1 failure,
// 2 usage or configuration error. Errors are printed to stderr as one line.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) int {
	a := &app{ctx: ctx, stdin: stdin, stdout: stdout, stderr: stderr, getenv: getenv}
	// Log lines are timed in DISPATCH_TIMEZONE, RFC 3339 with the offset (2026-11-30T21:04:05.123+02:00),
	// as the command line shows times; before the configuration is loaded, in local time.
	a.log = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo,
		ReplaceAttr: func(groups []string, attr slog.Attr) slog.Attr {
			if attr.Key == slog.TimeKey && len(groups) == 0 && attr.Value.Kind() == slog.KindTime && a.cfg != nil && a.cfg.Timezone != nil {
				attr.Value = slog.TimeValue(attr.Value.Time().In(a.cfg.Timezone))
			}
			return attr
		}}))
	defer func() {
		for _, c := range a.closers {
			c()
		}
		if a.store != nil {
			a.store.Close()
		}
	}()
	root := a.rootCommand()
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return 0
	}
	fmt.Fprintln(stderr, "dispatch: "+oneLine(err.Error()))
	var ue usageError
	if errors.As(err, &ue) || strings.HasPrefix(err.Error(), "unknown command") {
		return 2
	}
	return 1
}

// group makes cmd a command that only holds subcommands: alone it prints its help, and an unknown
// subcommand is a usage error rather than a silent help page.
func group(cmd *cobra.Command, subs ...*cobra.Command) *cobra.Command {
	cmd.Args = cobra.ArbitraryArgs
	cmd.RunE = func(c *cobra.Command, argv []string) error {
		if len(argv) > 0 {
			return usagef("unknown command %q for %q", argv[0], c.CommandPath())
		}
		return c.Help()
	}
	cmd.AddCommand(subs...)
	return cmd
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(s, "\n", " ")), " ")
}

func (a *app) rootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:   "dispatch",
		Short: "Send Jack's Mood's marketing to the loyalty register's members, keeping the register's promises",
		Long: `dispatch sends newsletters and coupon offers by email, SMS and post to the members of
Jack's Mood's loyalty register: only to those who may be reached on each channel, with every coupon
code logged, and with the members' rights (access, correction, erasure) one command away.

Configuration comes from DISPATCH_* environment variables; the flags below override them.`,
		SilenceUsage:      true,
		SilenceErrors:     true,
		CompletionOptions: cobra.CompletionOptions{DisableDefaultCmd: true},
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadConfig(a.getenv, cmd.Flags())
			if err != nil {
				return usageError{err}
			}
			a.cfg = cfg
			return nil
		},
	}
	addConfigFlags(root.PersistentFlags())
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	root.AddCommand(
		a.migrateCommand(),
		a.seedCommand(),
		a.membersCommand(),
		a.purchasesCommand(),
		a.consentCommand(),
		a.suppressionsCommand(),
		a.usersCommand(),
		a.auditCommand(),
		a.campaignsCommand(),
		a.couponsCommand(),
		a.schedulerCommand(),
		a.serveCommand(),
		a.workerCommand(),
		a.demoCommand(),
		a.smsHooksCommand(),
	)
	return root
}

// args checks the number of positional arguments, answering a usage error naming what is expected.
func args(n int, names string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, got []string) error {
		if len(got) != n {
			return usagef("%s: want %s (see dispatch %s --help)", cmd.CommandPath(), names, strings.TrimPrefix(cmd.CommandPath(), "dispatch "))
		}
		return nil
	}
}

// openStore connects to PostgreSQL once per process.
func (a *app) openStore() (store, error) {
	if a.store != nil {
		return a.store, nil
	}
	s, err := openStore(a.ctx, a.cfg.DatabaseURL)
	if err != nil {
		return nil, err
	}
	a.useKey(s)
	a.store = s
	return s, nil
}

// useKey gives the store DISPATCH_SUPPRESSION_KEY when it is set; the store checks it against the
// register at the first change that needs it (or at once, through AdoptRegisterKey).
func (a *app) useKey(s store) {
	if a.cfg.SuppressionKey != "" {
		s.SetRegisterKey([]byte(a.cfg.SuppressionKey))
	}
}

// actor returns the named user on whose behalf a command runs (--as or DISPATCH_USER). It must be a
// user added with `dispatch users add`; its role says what the command may do. Member data is for
// named users only.
func (a *app) actor() (campaigns.User, error) {
	if a.cfg.User == "" {
		return campaigns.User{}, usagef("this command is audited: name the acting user with --as NAME or DISPATCH_USER")
	}
	svc, err := a.service()
	if err != nil {
		return campaigns.User{}, err
	}
	return svc.User(a.ctx, a.cfg.User)
}

// operator returns the acting user of a command that an operator may also run from the shell
// without naming a user (campaigns, coupons, users add, seed): the named user when --as or
// DISPATCH_USER is given, else the operating-system account, "os:NAME", with the admin role (whoever
// runs dispatch with the database's address holds the database anyway). It is audited by that name.
func (a *app) operator() (campaigns.User, error) {
	if a.cfg.User != "" {
		return a.actor()
	}
	return a.osUser(), nil
}

// osUser is the operating-system account running dispatch, as an administrator named "os:NAME".
func (a *app) osUser() campaigns.User {
	name := a.getenv("USER")
	if name == "" {
		name = fmt.Sprint(os.Getuid())
	}
	return campaigns.User{Name: "os:" + name, Role: campaigns.RoleAdmin}
}

// service returns the use cases over the store, opened once per process. Without DISPATCH_SECRET (a
// marketer's shell) the links that previews sign do not work, and need not.
func (a *app) service() (*service.Service, error) {
	if a.svc != nil {
		return a.svc, nil
	}
	s, err := a.openStore()
	if err != nil {
		return nil, err
	}
	composer, err := a.composer()
	if err != nil {
		return nil, err
	}
	// Letter previews are drawn as the worker's print batches are (same return address: the
	// default), without a print folder.
	letters, err := print.NewRenderer(print.Config{})
	if err != nil {
		return nil, err
	}
	a.svc, err = service.New(service.Config{
		Timezone:      a.cfg.Timezone,
		TokenLifetime: a.cfg.TokenLifetime,
		TestSenders:   map[campaigns.Channel]worker.Sender{campaigns.Email: &testMailer{a: a}, campaigns.SMS: &testTexter{a: a}},
		Letters:       letters,
	}, s, composer, a.log)
	return a.svc, err
}

// composer returns the message composer of this configuration: templates (built in, and
// DISPATCH_TEMPLATE_DIR), unsubscribe links and Message-IDs.
func (a *app) composer() (*compose.Composer, error) {
	secret := a.cfg.Secret
	if secret == "" {
		secret = "preview-only-secret-links-do-not-work"
	}
	r, err := templates.New(a.cfg.TemplateDir)
	if err != nil {
		return nil, err
	}
	return compose.New(compose.Config{PublicURL: a.cfg.PublicURL, Secret: []byte(secret),
		UnsubscribeMailto: a.cfg.UnsubscribeMailto, MessageIDDomain: compose.DomainOf(a.cfg.MailFrom), Timezone: a.cfg.Timezone}, r)
}

// testTexter sends test messages through the SMS gateway (DISPATCH_SMS_URL; log:// prints them).
type testTexter struct {
	a      *app
	sender worker.Sender
}

func (t *testTexter) Send(ctx context.Context, m compose.Message) (worker.Receipt, error) {
	if t.sender == nil {
		texter, err := sms.New(sms.Config{URL: t.a.cfg.SMSURL, Log: t.a.stdout}, t.a.log)
		if err != nil {
			return worker.Receipt{}, err
		}
		t.sender = texter
	}
	return t.sender.Send(ctx, m)
}

// testMailer sends test messages by SMTP, connecting on the first one.
type testMailer struct {
	a      *app
	sender worker.Sender
}

func (t *testMailer) Send(ctx context.Context, m compose.Message) (worker.Receipt, error) {
	if t.sender == nil {
		mailer, err := email.New(email.Config{URL: t.a.cfg.SMTPURL, From: t.a.cfg.MailFrom, Connections: 1, Timeout: t.a.cfg.SMTPTimeout}, t.a.log)
		if err != nil {
			return worker.Receipt{}, err
		}
		t.a.closers = append(t.a.closers, mailer.Close)
		t.sender = email.Channel{Sender: mailer}
	}
	return t.sender.Send(ctx, m)
}

func (a *app) migrateCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "migrate",
		Short: "Create or upgrade the database schema (safe to run again)",
		Args:  args(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if created, err := createDatabase(a.ctx, a.cfg.DatabaseURL); err != nil {
				return err
			} else if created {
				fmt.Fprintln(a.stdout, "created the database")
			}
			s, err := a.openStore()
			if err != nil {
				return err
			}
			applied, err := s.Migrate(a.ctx)
			if err != nil {
				return err
			}
			if len(applied) == 0 {
				fmt.Fprintln(a.stdout, "schema is up to date")
			}
			for _, m := range applied {
				fmt.Fprintln(a.stdout, "applied", m)
			}
			// With a key, the register's hashes are keyed now rather than at the first import.
			if a.cfg.SuppressionKey != "" {
				return s.AdoptRegisterKey(a.ctx)
			}
			return nil
		},
	}
}

// isKind reports whether err is of one of the domain error kinds.
func isKind(err error, kinds ...error) bool {
	for _, k := range kinds {
		if errors.Is(err, k) {
			return true
		}
	}
	return false
}
