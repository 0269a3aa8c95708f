package campaigns

import (
	"testing"
	"time"
)

func TestQuietHours(t *testing.T) {
	hki, _ := time.LoadLocation("Europe/Helsinki")
	q, err := ParseQuietHours("21:00-09:00", hki)
	if err != nil || q.String() != "21:00-09:00" {
		t.Fatalf("parse: %v %v", q, err)
	}
	cases := map[string]bool{"20:59": false, "21:00": true, "23:30": true, "00:00": true, "08:59": true, "09:00": false, "12:00": false}
	for hm, want := range cases {
		at, _ := time.ParseInLocation("2006-01-02 15:04", "2026-11-24 "+hm, hki)
		if got := q.Contains(at.UTC()); got != want {
			t.Errorf("%s Helsinki time: quiet %v, want %v", hm, got, want)
		}
	}
	day, _ := ParseQuietHours("12:00-13:00", hki)
	if at, _ := time.ParseInLocation("15:04", "12:30", hki); !day.Contains(time.Date(2026, 1, 1, at.Hour(), at.Minute(), 0, 0, hki)) {
		t.Error("a window within one day does not contain its middle")
	}
	off, err := ParseQuietHours("off", hki)
	if err != nil || off.Contains(time.Now()) || off.String() != "off" {
		t.Fatalf("off: %v %v", off, err)
	}
	for _, bad := range []string{"21-09", "25:00-09:00", "21:00", "09:00-09:00"} {
		if _, err := ParseQuietHours(bad, hki); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
