package catalog

import (
	"errors"
	"testing"
	"time"

	"github.com/paotui/paotui/internal/places"
)

// A task type's hours are saved here and enforced by places when an order is placed; an end of
// 24:00 means end of day in both, and 24:00 is never a start.
func TestServiceHoursEndOfDay(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		window string
		ok     bool
	}{
		{"ends at end of day", "08:00-24:00", true},
		{"whole day", "00:00-24:00", true},
		{"starts at 24:00", "24:00-24:00", false},
		{"24:00 as a start before an end", "24:00-08:00", false},
		{"past 24:00", "08:00-24:01", false},
		{"hour 25", "08:00-25:00", false},
		{"ends before it starts", "18:00-14:00", false},
		{"empty window", "08:00-08:00", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := validateHours(map[string][]string{"mon": {tc.window}})
			var ve *ValidationError
			switch {
			case tc.ok && err != nil:
				t.Fatalf("validateHours(%q) = %v, want accepted", tc.window, err)
			case !tc.ok && (!errors.As(err, &ve) || ve.Field != "serviceHours.mon[0]"):
				t.Fatalf("validateHours(%q) = %v, want invalid serviceHours.mon[0]", tc.window, err)
			}
		})
	}

	// What was saved is what orders enforce (places.ParseWeek, as orders.prepare does).
	week, err := places.ParseWeek(map[string][]string{"mon": {"08:00-24:00"}})
	if err != nil {
		t.Fatal(err)
	}
	h := &places.Hours{Loc: time.UTC, Week: week}
	monday := time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC)
	for _, at := range []struct {
		clock string
		open  bool
	}{{"07:59", false}, {"08:00", true}, {"23:59", true}} {
		c, _ := time.Parse("15:04", at.clock)
		when := monday.Add(time.Duration(c.Hour())*time.Hour + time.Duration(c.Minute())*time.Minute)
		if open, _ := h.Open(when); open != at.open {
			t.Errorf("Monday %s: open = %v, want %v", at.clock, open, at.open)
		}
	}
}
