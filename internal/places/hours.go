package places

import (
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"
)

// DefaultTimezone is the zone service hours are read in when the tenant's settings name none.
const DefaultTimezone = "Asia/Shanghai"

// Reasons Hours.Open gives for being closed.
const (
	ReasonClosedDate   = "closed_date"
	ReasonOutsideHours = "outside_hours"
)

// minutesPerDay is 24:00, the latest a window may close.
const minutesPerDay = 24 * 60

// Window is one stretch of service on a weekday, [Opens, Closes) in minutes after local
// midnight: 0 <= Opens < Closes <= 1440. Service past midnight is two windows, one ending at
// 24:00 and one starting at 00:00 the next day.
type Window struct {
	Opens  int `json:"opens"`
	Closes int `json:"closes"`
}

// ParseWindow reads "HH:MM-HH:MM", the blueprint's format; the end may be 24:00.
func ParseWindow(s string) (Window, error) {
	from, to, ok := strings.Cut(strings.TrimSpace(s), "-")
	if !ok {
		return Window{}, fmt.Errorf("window %q: want HH:MM-HH:MM", s)
	}
	o, err1 := parseClock(from)
	c, err2 := parseClock(to)
	if err1 != nil || err2 != nil || o == minutesPerDay {
		return Window{}, fmt.Errorf("window %q: want HH:MM-HH:MM with times 00:00..24:00", s)
	}
	w := Window{Opens: o, Closes: c}
	if !w.valid() {
		return Window{}, fmt.Errorf("window %q: must open before it closes", s)
	}
	return w, nil
}

func parseClock(s string) (int, error) {
	if len(s) != 5 || s[2] != ':' || !digits(s[:2]) || !digits(s[3:]) {
		return 0, fmt.Errorf("clock %q", s)
	}
	h := int(s[0]-'0')*10 + int(s[1]-'0')
	m := int(s[3]-'0')*10 + int(s[4]-'0')
	if h > 24 || m > 59 || (h == 24 && m != 0) {
		return 0, fmt.Errorf("clock %q", s)
	}
	return h*60 + m, nil
}

func digits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// String formats w as "HH:MM-HH:MM".
func (w Window) String() string {
	return fmt.Sprintf("%02d:%02d-%02d:%02d", w.Opens/60, w.Opens%60, w.Closes/60, w.Closes%60)
}

func (w Window) valid() bool { return w.Opens >= 0 && w.Opens < w.Closes && w.Closes <= minutesPerDay }

// Hours are a tenant's service hours as loaded by LoadHours. Week and Closed are read in Loc,
// the tenant's zone. Hours are not changed after loading, so one value may be shared.
type Hours struct {
	Loc    *time.Location
	Week   map[time.Weekday][]Window
	Closed map[string]string // local date "2006-01-02" -> reason shown to students
}

// Open reports whether an order placed at the instant at is within service, and if not why:
// ReasonClosedDate or ReasonOutsideHours. Both the date and the clock are taken in h.Loc, so a
// UTC instant of 16:30 on 30 September is 00:30 on 1 October in Asia/Shanghai.
//
// A closed date wins over the weekly hours. A tenant with no weekly windows at all has no hours
// limit (closed dates still apply): tenants provisioned before hours were kept in their own
// table and without a service_hours setting must not stop taking orders when they migrate.
// Within a week that has windows, a weekday without any is closed all day.
func (h *Hours) Open(at time.Time) (bool, string) {
	local := at.In(h.location())
	if _, closed := h.Closed[local.Format(time.DateOnly)]; closed {
		return false, ReasonClosedDate
	}
	limited := false
	for _, ws := range h.Week {
		if len(ws) > 0 {
			limited = true
			break
		}
	}
	if !limited {
		return true, ""
	}
	sec := local.Hour()*3600 + local.Minute()*60 + local.Second()
	for _, w := range h.Week[local.Weekday()] {
		if sec >= w.Opens*60 && sec < w.Closes*60 {
			return true, ""
		}
	}
	return false, ReasonOutsideHours
}

// ClosedReason is the reason recorded for the local date of at, and whether that date is closed.
func (h *Hours) ClosedReason(at time.Time) (string, bool) {
	r, ok := h.Closed[at.In(h.location()).Format(time.DateOnly)]
	return r, ok
}

// location is h.Loc, or DefaultTimezone for a zero Hours.
func (h *Hours) location() *time.Location {
	if h.Loc == nil {
		return shanghai()
	}
	return h.Loc
}

// weekdayNames are the blueprint's keys for service_hours.
var weekdayNames = map[string]time.Weekday{
	"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday, "wed": time.Wednesday,
	"thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday,
}

// ParseWeek reads service hours in the blueprint's shape: {"mon": ["07:30-23:00"], ...}.
func ParseWeek(days map[string][]string) (map[time.Weekday][]Window, error) {
	week := map[time.Weekday][]Window{}
	for day, specs := range days {
		wd, ok := weekdayNames[day]
		if !ok {
			return nil, invalid(ErrInvalidHours, "week."+day, "unknown weekday (use mon..sun)")
		}
		for i, s := range specs {
			w, err := ParseWindow(s)
			if err != nil {
				return nil, invalid(ErrInvalidHours, fmt.Sprintf("week.%s[%d]", day, i), "%v", err)
			}
			week[wd] = append(week[wd], w)
		}
	}
	return week, checkWeek(week)
}

// checkWeek validates every window and refuses overlaps within a day; windows may touch.
// It sorts each day's windows.
func checkWeek(week map[time.Weekday][]Window) error {
	for wd, ws := range week {
		if wd < time.Sunday || wd > time.Saturday {
			return invalid(ErrInvalidHours, "week", "weekday %d is not 0 (Sunday) .. 6 (Saturday)", int(wd))
		}
		field := "week." + strings.ToLower(wd.String()[:3])
		sort.Slice(ws, func(i, j int) bool { return ws[i].Opens < ws[j].Opens })
		for i, w := range ws {
			if !w.valid() {
				return invalid(ErrInvalidHours, fmt.Sprintf("%s[%d]", field, i), "a window opens at 00:00..23:59 and closes after it, by 24:00")
			}
			if i > 0 && w.Opens < ws[i-1].Closes {
				return invalid(ErrInvalidHours, fmt.Sprintf("%s[%d]", field, i), "%s overlaps %s", w, ws[i-1])
			}
		}
	}
	return nil
}

// locations caches time.LoadLocation, which reads the tz database on every call, since
// LoadHours runs once per order.
var locations sync.Map // name -> *time.Location

func loadLocation(name string) (*time.Location, error) {
	if loc, ok := locations.Load(name); ok {
		return loc.(*time.Location), nil
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, err
	}
	locations.Store(name, loc)
	return loc, nil
}

// shanghai is DefaultTimezone, loaded once; without a tz database it falls back to UTC+8, which
// is what Asia/Shanghai has been since 1991.
var shanghai = sync.OnceValue(func() *time.Location {
	loc, err := time.LoadLocation(DefaultTimezone)
	if err != nil {
		return time.FixedZone("CST", 8*3600)
	}
	return loc
})
