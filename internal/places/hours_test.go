package places_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/paotui/paotui/internal/places"
	"github.com/paotui/paotui/internal/store"
)

type openCase struct {
	name   string
	at     string // RFC 3339 in UTC: the instant an order is placed
	open   bool
	reason string
}

func checkOpen(t *testing.T, h *places.Hours, cases []openCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			at, err := time.Parse(time.RFC3339, tc.at)
			if err != nil {
				t.Fatal(err)
			}
			open, reason := h.Open(at)
			if open != tc.open || reason != tc.reason {
				t.Fatalf("Open(%s = %s local) = %v %q, want %v %q", tc.at, at.In(h.Loc).Format("Mon 2006-01-02 15:04:05"),
					open, reason, tc.open, tc.reason)
			}
		})
	}
}

// Hours are evaluated in the tenant's zone (Asia/Shanghai, UTC+8) whatever zone the instant
// comes in; windows include their opening minute and exclude their closing one.
func TestHoursOpen(t *testing.T) {
	e := newEnv(t, "tenant_hours")
	const s = "tenant_hours"
	e.putSettings(t, s, loadBlueprint(t, "default"))
	var h *places.Hours
	e.in(t, s, func(tx *gorm.DB) (err error) {
		if err = places.SeedFromBlueprint(tx, loadBlueprint(t, "default")); err != nil {
			return err
		}
		if err = places.AddClosedDate(tx, "2025-10-01", "国庆节"); err != nil {
			return err
		}
		h, err = places.LoadHours(tx)
		return err
	})
	if h.Loc.String() != "Asia/Shanghai" {
		t.Fatalf("zone %s, want Asia/Shanghai from settings", h.Loc)
	}
	if h.Closed["2025-10-01"] != "国庆节" {
		t.Fatalf("closed dates %v", h.Closed)
	}
	// The default blueprint: Mon-Thu 07:30-23:00, Fri 07:30-23:30, Sat 08:30-23:30, Sun 08:30-23:00.
	// 2025-06-02 is a Monday.
	checkOpen(t, h, []openCase{
		{"mon 23:10 after closing at 23:00", "2025-06-02T15:10:00Z", false, places.ReasonOutsideHours},
		{"mon 22:59:59 last second", "2025-06-02T14:59:59Z", true, ""},
		{"mon 23:00 closing minute is out", "2025-06-02T15:00:00Z", false, places.ReasonOutsideHours},
		{"mon 07:30 opening minute is in (still Sunday in UTC)", "2025-06-01T23:30:00Z", true, ""},
		{"mon 07:29:59 before opening", "2025-06-01T23:29:59Z", false, places.ReasonOutsideHours},
		{"fri 23:20 open until 23:30", "2025-06-06T15:20:00Z", true, ""},
		{"fri 23:30 closed", "2025-06-06T15:30:00Z", false, places.ReasonOutsideHours},
		{"sat 08:00 opens later at weekends", "2025-06-07T00:00:00Z", false, places.ReasonOutsideHours},
		{"sat 23:20 open", "2025-06-07T15:20:00Z", true, ""},
		{"closed date at noon", "2025-10-01T04:00:00Z", false, places.ReasonClosedDate},
		{"closed date begins at local midnight, UTC's previous day", "2025-09-30T16:00:00Z", false, places.ReasonClosedDate},
		{"closed date ends at local midnight", "2025-10-01T16:00:00Z", false, places.ReasonOutsideHours},
		{"evening before the closed date is open", "2025-09-30T14:00:00Z", true, ""},
		{"morning after the closed date is open", "2025-10-02T02:00:00Z", true, ""},
	})

	// Service past midnight is a window to 24:00 and one from 00:00 the next day.
	week := map[time.Weekday][]places.Window{
		time.Monday:   {{Opens: 450, Closes: 1380}},
		time.Saturday: {{Opens: 0, Closes: 1440}},
		time.Sunday:   {{Opens: 510, Closes: 1380}, {Opens: 0, Closes: 120}},
	}
	e.in(t, s, func(tx *gorm.DB) (err error) {
		if err = places.PutHours(tx, week); err != nil {
			return err
		}
		h, err = places.LoadHours(tx)
		return err
	})
	want := map[time.Weekday][]places.Window{
		time.Monday:   {{Opens: 450, Closes: 1380}},
		time.Saturday: {{Opens: 0, Closes: 1440}},
		time.Sunday:   {{Opens: 0, Closes: 120}, {Opens: 510, Closes: 1380}},
	}
	if !reflect.DeepEqual(h.Week, want) {
		t.Fatalf("hours read back as %v, want %v", h.Week, want)
	}
	checkOpen(t, h, []openCase{
		{"sat 00:00 all-day window", "2025-06-06T16:00:00Z", true, ""},
		{"sat 23:59:59 open until 24:00", "2025-06-07T15:59:59Z", true, ""},
		{"sun 00:00 night window", "2025-06-07T16:00:00Z", true, ""},
		{"sun 01:59:59 night window", "2025-06-07T17:59:59Z", true, ""},
		{"sun 02:00 night window over", "2025-06-07T18:00:00Z", false, places.ReasonOutsideHours},
		{"sun 08:29 between windows", "2025-06-08T00:29:00Z", false, places.ReasonOutsideHours},
		{"sun 08:30 second window", "2025-06-08T00:30:00Z", true, ""},
		{"tue has no window: closed all day", "2025-06-03T04:00:00Z", false, places.ReasonOutsideHours},
	})
}

// A tenant without weekly hours (an empty table, e.g. migrated without a service_hours
// setting) keeps taking orders; closed dates still apply. The time zone comes from settings.
func TestHoursWithoutWeek(t *testing.T) {
	e := newEnv(t, "tenant_open", "tenant_badtz")
	var h *places.Hours
	e.in(t, "tenant_open", func(tx *gorm.DB) (err error) {
		if err = places.AddClosedDate(tx, "2025-06-02", "  "); err != nil {
			return err
		}
		if err = tx.Exec(`INSERT INTO settings (key, value) VALUES ('timezone', '"UTC"')`).Error; err != nil {
			return err
		}
		h, err = places.LoadHours(tx)
		return err
	})
	if h.Loc.String() != "UTC" {
		t.Fatalf("zone %s, want UTC from settings", h.Loc)
	}
	checkOpen(t, h, []openCase{
		{"3am on a Sunday", "2025-06-01T03:00:00Z", true, ""},
		{"the closed date in UTC", "2025-06-02T23:59:59Z", false, places.ReasonClosedDate},
		{"Shanghai's closed-date morning is still the day before in UTC", "2025-06-01T20:00:00Z", true, ""},
	})

	e.in(t, "tenant_open", func(tx *gorm.DB) error {
		if err := places.RemoveClosedDate(tx, "2025-06-02"); err != nil {
			return err
		}
		if err := places.RemoveClosedDate(tx, "2025-06-02"); !errors.Is(err, places.ErrClosedDateNotFound) {
			t.Errorf("removing twice: want ErrClosedDateNotFound, got %v", err)
		}
		for _, bad := range [][2]string{{"2025-13-01", ""}, {"1 Oct", ""}, {"2025-10-01", string(make([]rune, 201))}, {"2025-10-01", "a\nb"}} {
			if err := places.AddClosedDate(tx, bad[0], bad[1]); !errors.Is(err, places.ErrInvalidHours) {
				t.Errorf("AddClosedDate(%q, %q): want ErrInvalidHours, got %v", bad[0], bad[1], err)
			}
		}
		return nil
	})

	err := e.db.InTenant(t.Context(), store.Schema("tenant_badtz"), func(tx *gorm.DB) error {
		if err := tx.Exec(`INSERT INTO settings (key, value) VALUES ('timezone', '"Mars/Olympus"')`).Error; err != nil {
			return err
		}
		_, err := places.LoadHours(tx)
		return err
	})
	if err == nil {
		t.Fatal("an unknown time zone must be an error, not a silent fallback")
	}
}

func TestPutHoursRefusesBadWeeks(t *testing.T) {
	e := newEnv(t, "tenant_week")
	for _, tc := range []struct {
		name  string
		week  map[time.Weekday][]places.Window
		field string
	}{
		{"overlap", map[time.Weekday][]places.Window{time.Monday: {{Opens: 480, Closes: 720}, {Opens: 700, Closes: 900}}}, "week.mon[1]"},
		{"closes after midnight", map[time.Weekday][]places.Window{time.Friday: {{Opens: 1320, Closes: 1500}}}, "week.fri[0]"},
		{"empty window", map[time.Weekday][]places.Window{time.Sunday: {{Opens: 600, Closes: 600}}}, "week.sun[0]"},
		{"negative", map[time.Weekday][]places.Window{time.Sunday: {{Opens: -60, Closes: 600}}}, "week.sun[0]"},
		{"no such weekday", map[time.Weekday][]places.Window{7: {{Opens: 0, Closes: 60}}}, "week"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e.in(t, "tenant_week", func(tx *gorm.DB) error {
				err := places.PutHours(tx, tc.week)
				var ie *places.InvalidError
				if !errors.As(err, &ie) || !errors.Is(err, places.ErrInvalidHours) || ie.Field != tc.field {
					t.Fatalf("want ErrInvalidHours on %s, got %v", tc.field, err)
				}
				return nil
			})
		})
	}
	// Touching windows are fine, and the input map is left as given.
	week := map[time.Weekday][]places.Window{time.Monday: {{Opens: 720, Closes: 1080}, {Opens: 480, Closes: 720}}}
	e.in(t, "tenant_week", func(tx *gorm.DB) error { return places.PutHours(tx, week) })
	if week[time.Monday][0].Opens != 720 {
		t.Fatal("PutHours reordered the caller's slice")
	}
}

func TestParseWindow(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   string
		want places.Window
		ok   bool
	}{
		{"07:30-23:00", places.Window{Opens: 450, Closes: 1380}, true},
		{"00:00-24:00", places.Window{Opens: 0, Closes: 1440}, true},
		{" 08:00-09:00 ", places.Window{Opens: 480, Closes: 540}, true},
		{"23:00-07:30", places.Window{}, false},
		{"24:00-24:00", places.Window{}, false},
		{"08:00-24:01", places.Window{}, false},
		{"8:00-09:00", places.Window{}, false},
		{"08:60-09:00", places.Window{}, false},
		{"08:00", places.Window{}, false},
		{"+8:00-09:00", places.Window{}, false},
		{"", places.Window{}, false},
	} {
		t.Run(tc.in, func(t *testing.T) {
			t.Parallel()
			got, err := places.ParseWindow(tc.in)
			if (err == nil) != tc.ok || got != tc.want {
				t.Fatalf("ParseWindow(%q) = %v, %v; want %v ok=%v", tc.in, got, err, tc.want, tc.ok)
			}
			if tc.ok && got.String() != strings.TrimSpace(tc.in) {
				t.Fatalf("String() = %q", got.String())
			}
		})
	}
}
