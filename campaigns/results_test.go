package campaigns_test

import (
	"testing"
	"time"

	"github.com/jacksmood/dispatch/campaigns"
)

func TestTimelineBucket(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		span time.Duration
		want time.Duration
	}{
		{-time.Minute, time.Second},
		{0, time.Second},
		{59 * time.Second, time.Second},
		{60 * time.Second, 10 * time.Second},
		{25 * time.Minute, time.Minute},
		{2 * time.Hour, 10 * time.Minute},
		{10 * time.Hour, time.Hour},
		{3 * 24 * time.Hour, 6 * time.Hour},
		{40 * 24 * time.Hour, 24 * time.Hour},
		{300 * 24 * time.Hour, 7 * 24 * time.Hour},
		{500 * 24 * time.Hour, 14 * 24 * time.Hour},
	} {
		got := campaigns.TimelineBucket(tc.span)
		if got != tc.want {
			t.Errorf("TimelineBucket(%v) = %v, want %v", tc.span, got, tc.want)
		}
		if n := max(tc.span, 0)/got + 1; n > campaigns.MaxTimelineBuckets {
			t.Errorf("TimelineBucket(%v) = %v gives %d buckets", tc.span, got, n)
		}
	}
}
