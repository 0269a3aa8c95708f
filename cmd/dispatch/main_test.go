package main

import (
	"context"
	"os"
	"testing"
)

// TestMain lets a test start this test binary as the dispatch program in a child process (to kill
// it with SIGKILL): with DISPATCH_TEST_AS_MAIN=1 it runs the command line instead of the tests.
func TestMain(m *testing.M) {
	if os.Getenv("DISPATCH_TEST_AS_MAIN") == "1" {
		os.Exit(run(context.Background(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Getenv))
	}
	os.Exit(m.Run())
}
