package places_test

import (
	"errors"
	"testing"
	"time"

	"github.com/paotui/paotui/internal/places"
)

func TestCheckOrder(t *testing.T) {
	t.Parallel()
	shanghai, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	bp := loadBlueprint(t, "demo")
	out := outsidePoints(t)
	dorm, gate := bpPoint(bp.Places[0]), bpPoint(bp.Places[17]) // 1号学生宿舍, 南门
	notch, far := out[notchPoint], out[farPoint]

	daily := []places.Window{{Opens: 7 * 60, Closes: 23 * 60}}
	hours := &places.Hours{Loc: shanghai, Week: map[time.Weekday][]places.Window{}, Closed: map[string]string{"2025-10-01": "国庆节"}}
	for d := time.Sunday; d <= time.Saturday; d++ {
		hours.Week[d] = daily
	}
	noon := time.Date(2025, 6, 2, 4, 0, 0, 0, time.UTC)     // Monday 12:00 in Shanghai
	night := time.Date(2025, 6, 2, 15, 30, 0, 0, time.UTC)  // Monday 23:30 in Shanghai
	holiday := time.Date(2025, 10, 1, 4, 0, 0, 0, time.UTC) // 1 October 12:00 in Shanghai
	demo := demoRange(t)
	unbounded := places.NewRange(nil)
	disabled := places.NewRange([]places.Zone{{Name: "off", Geometry: nil, Enabled: false}})

	refusals := []error{places.ErrInvalidPoint, places.ErrClosedDate, places.ErrOutsideHours,
		places.ErrPickupOutOfRange, places.ErrDropoffOutOfRange}
	for _, tc := range []struct {
		name            string
		r               *places.Range
		pickup, dropoff places.Point
		at              time.Time
		want            error
	}{
		{"dorm to gate at noon", demo, dorm, gate, noon, nil},
		{"pickup in the notch", demo, notch, gate, noon, places.ErrPickupOutOfRange},
		{"drop-off far away", demo, dorm, far, noon, places.ErrDropoffOutOfRange},
		{"both outside: pickup is reported", demo, far, notch, noon, places.ErrPickupOutOfRange},
		{"closed date", demo, dorm, gate, holiday, places.ErrClosedDate},
		{"outside hours", demo, dorm, gate, night, places.ErrOutsideHours},
		{"closed date wins over range", demo, far, far, holiday, places.ErrClosedDate},
		{"hours win over range", demo, far, far, night, places.ErrOutsideHours},
		{"pickup not a coordinate", demo, places.Point{Lng: 200, Lat: 30}, gate, noon, places.ErrInvalidPoint},
		{"drop-off not a coordinate", demo, dorm, places.Point{Lng: 114, Lat: -91}, noon, places.ErrInvalidPoint},
		{"no zones drawn: anywhere goes", unbounded, far, notch, noon, nil},
		{"every zone disabled: nowhere goes", disabled, dorm, gate, noon, places.ErrPickupOutOfRange},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := places.CheckOrder(tc.r, hours, tc.pickup, tc.dropoff, tc.at)
			if tc.want == nil {
				if err != nil {
					t.Fatalf("want accepted, got %v", err)
				}
				return
			}
			for _, other := range refusals {
				if errors.Is(err, other) != (other == tc.want) {
					t.Fatalf("want only %v, got %v", tc.want, err)
				}
			}
		})
	}

	t.Run("field of an invalid point", func(t *testing.T) {
		t.Parallel()
		err := places.CheckOrder(demo, hours, dorm, places.Point{Lng: 181}, noon)
		var ie *places.InvalidError
		if !errors.As(err, &ie) || ie.Field != "dropoff" {
			t.Fatalf("want an InvalidError on dropoff, got %v", err)
		}
	})
	t.Run("missing range or hours", func(t *testing.T) {
		t.Parallel()
		if err := places.CheckOrder(nil, hours, dorm, gate, noon); err == nil {
			t.Fatal("a nil range must not accept orders")
		}
		if err := places.CheckOrder(demo, nil, dorm, gate, noon); err == nil {
			t.Fatal("nil hours must not accept orders")
		}
	})
}
