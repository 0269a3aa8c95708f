// Command dispatch sends Jack's Mood's marketing to the members of its loyalty register, and keeps
// the register's promises while doing so. `dispatch help` lists the commands.
package main

import (
	"context"
	"log/slog"
	"net/url"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
	_ "time/tzdata" // DISPATCH_TIMEZONE works on machines without a zoneinfo database

	"github.com/jacksmood/dispatch/campaigns/api"
	"github.com/jacksmood/dispatch/campaigns/postgres"
	"github.com/jacksmood/dispatch/campaigns/service"
	"github.com/jacksmood/dispatch/scheduler"
	"github.com/jacksmood/dispatch/worker"
)

// memoryLimit is the Go runtime's soft memory limit unless GOMEMLIMIT sets one: the garbage
// collector works harder before the process grows past it (SPEC: daemons under 150 MB).
const memoryLimit = 100 << 20

// store is everything the commands need of the store: the use cases' store and the daemons'. It is
// the PostgreSQL store of campaigns/postgres, which this file alone names: the wiring of the
// program is here, and every other file works through the service and the daemons' interfaces.
type store interface {
	service.Store
	worker.Store
	scheduler.Store
	api.Store
	api.HookStore
	Migrate(ctx context.Context) ([]string, error)
	SetRegisterKey(key []byte)
	AdoptRegisterKey(ctx context.Context) error
	ListenForWork(ctx context.Context, url string, log *slog.Logger) (<-chan struct{}, error)
	Close() error
}

var _ store = (*postgres.Store)(nil)

// openStore connects to PostgreSQL at dbURL, with the run-time parameters given (name, value pairs)
// set for every connection of the pool.
func openStore(ctx context.Context, dbURL string, params ...string) (store, error) {
	if len(params) > 0 {
		u, err := url.Parse(dbURL)
		if err != nil {
			return nil, err
		}
		q := u.Query()
		for i := 0; i+1 < len(params); i += 2 {
			q.Set(params[i], params[i+1])
		}
		u.RawQuery = q.Encode()
		dbURL = u.String()
	}
	return postgres.Open(ctx, dbURL)
}

// createDatabase creates the database of dbURL if it does not exist; created says whether it did.
func createDatabase(ctx context.Context, dbURL string) (created bool, err error) {
	return postgres.CreateDatabaseIfMissing(ctx, dbURL)
}

func main() {
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(memoryLimit)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Getenv)
	stop()
	os.Exit(code)
}
