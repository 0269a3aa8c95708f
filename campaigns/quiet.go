package campaigns

import (
	"fmt"
	"strings"
	"time"
)

// QuietHours is the daily window in which no marketing SMS is sent, in local time: from Start to
// End, wrapping past midnight when End is before Start (21:00–09:00). The zero value is no window.
type QuietHours struct {
	Start, End time.Duration // since local midnight
	Location   *time.Location
}

// ParseQuietHours reads "21:00-09:00" (or "off") in loc.
func ParseQuietHours(s string, loc *time.Location) (QuietHours, error) {
	if s == "" || strings.EqualFold(s, "off") {
		return QuietHours{}, nil
	}
	from, to, ok := strings.Cut(s, "-")
	start, err1 := clock(from)
	end, err2 := clock(to)
	if !ok || err1 != nil || err2 != nil || start == end {
		return QuietHours{}, fmt.Errorf("%q is not a window like 21:00-09:00 (or off)", s)
	}
	return QuietHours{Start: start, End: end, Location: loc}, nil
}

func clock(s string) (time.Duration, error) {
	t, err := time.Parse("15:04", strings.TrimSpace(s))
	if err != nil {
		return 0, err
	}
	return time.Duration(t.Hour())*time.Hour + time.Duration(t.Minute())*time.Minute, nil
}

// Contains reports whether t falls in the quiet window.
func (q QuietHours) Contains(t time.Time) bool {
	if q.Start == q.End {
		return false
	}
	local := t.In(q.Location)
	since := time.Duration(local.Hour())*time.Hour + time.Duration(local.Minute())*time.Minute + time.Duration(local.Second())*time.Second
	if q.Start < q.End {
		return since >= q.Start && since < q.End
	}
	return since >= q.Start || since < q.End
}

// String writes the window as "21:00-09:00", or "off".
func (q QuietHours) String() string {
	if q.Start == q.End {
		return "off"
	}
	f := func(d time.Duration) string { return fmt.Sprintf("%02d:%02d", int(d.Hours()), int(d.Minutes())%60) }
	return f(q.Start) + "-" + f(q.End)
}
