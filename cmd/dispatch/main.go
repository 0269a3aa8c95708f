// Command dispatch sends Jack's Mood's marketing to the members of its loyalty register, and keeps
// the register's promises while doing so. `dispatch help` lists the commands.
package main

import (
	"context"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
	_ "time/tzdata" // DISPATCH_TIMEZONE works on machines without a zoneinfo database
)

// memoryLimit is the Go runtime's soft memory limit unless GOMEMLIMIT sets one: the garbage
// collector works harder before the process grows past it (SPEC: daemons under 150 MB).
const memoryLimit = 100 << 20

func main() {
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(memoryLimit)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Getenv)
	stop()
	os.Exit(code)
}
