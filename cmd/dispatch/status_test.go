package main

import (
	"strings"
	"testing"

	"github.com/jacksmood/dispatch/campaigns"
)

func TestRenderStatusDrawsProgressPerChannel(t *testing.T) {
	st := campaigns.Stats{ID: 7, Status: campaigns.StatusRunning, RunID: 3, Channels: map[campaigns.Channel]campaigns.ChannelStats{
		campaigns.Email: {Total: 200, Queued: 100, Sent: 80, Failed: 5, Skipped: 15, Reasons: map[campaigns.SkipReason]int64{"no_consent": 10, "suppressed": 5}},
		campaigns.SMS:   {},
	}}
	out := renderStatus(st, false)
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	if lines[0] != "campaign 7: running (run 3)" {
		t.Fatalf("first line %q", lines[0])
	}
	// 100 of 200 final, half the bar: 80 sent (12 marks), 5 failed (less than a mark), 15 skipped.
	if !strings.Contains(lines[1], "[############---...............]  50% done") || !strings.Contains(lines[1], "sent 80, failed 5, skipped 15, queued 100 of 200") {
		t.Fatalf("email line %q", lines[1])
	}
	if strings.TrimSpace(lines[2]) != "skipped: no_consent 10, suppressed 5" {
		t.Fatalf("reasons line %q", lines[2])
	}
	if !strings.Contains(lines[3], "sms") || !strings.Contains(lines[3], "0%") {
		t.Fatalf("sms line %q", lines[3])
	}
	// Mostly skipped, few sent: the bar shows it, not a bar "63 %" full of success.
	few := renderStatus(campaigns.Stats{ID: 8, Status: campaigns.StatusFinished, Channels: map[campaigns.Channel]campaigns.ChannelStats{
		campaigns.Email: {Total: 309, Sent: 40, Skipped: 269}}}, false)
	if !strings.Contains(few, "[###---------------------------] 100% done  sent 40, failed 0, skipped 269") {
		t.Fatalf("mostly skipped:\n%s", few)
	}
	if live := renderStatus(st, true); !strings.HasPrefix(live, "\033[H\033[2J") {
		t.Fatal("--watch does not redraw the screen")
	}
}
