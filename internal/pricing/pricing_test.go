package pricing

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/paotui/paotui/internal/blueprint"
)

var shanghai = func() *time.Location {
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		panic(err)
	}
	return loc
}()

// campus is a point on a campus; north moves along its meridian, where the great-circle
// distance is exactly R·Δφ, so test distances are whole metres.
var campus = Point{Lng: 116.3105, Lat: 39.9925}

func north(p Point, meters float64) Point {
	return Point{Lng: p.Lng, Lat: p.Lat + meters/EarthRadius*180/math.Pi}
}

// utc builds a time in UTC; Shanghai is UTC+8 with no DST, so 02:00 UTC is 10:00 there.
func utc(day, hour, minute, sec int) time.Time {
	return time.Date(2025, 3, day, hour, minute, sec, 0, time.UTC)
}

// delivery is the default blueprint's item_delivery with a straight-line detour.
func delivery() Rule {
	return Rule{BaseFee: 400, IncludedMeters: 1000, PerKmFee: 150, MinFee: 400, DetourFactor: 1,
		SizeFees: map[string]Money{"small": 0, "medium": 150, "large": 400}}
}

var (
	night = Surcharge{Code: "night", Name: blueprint.Text{ZH: "夜间服务费", EN: "Night surcharge"}, From: "22:00", To: "06:00", Fee: 200}
	peak  = Surcharge{Code: "peak", Name: blueprint.Text{ZH: "高峰服务费", EN: "Peak surcharge"}, From: "11:30", To: "12:30", Fee: 100}
	lunch = Surcharge{Code: "lunch_rush", Name: blueprint.Text{ZH: "午餐加价", EN: "Lunch rush"}, From: "12:00", To: "13:00", Fee: 50}
)

// order is an input for meters along the meridian at 10:00 Shanghai (no surcharge).
func order(meters float64) Input {
	return Input{TaskType: "item_delivery", Pickup: campus, Dropoff: north(campus, meters), At: utc(4, 2, 0, 0)}
}

func with(in Input, f func(*Input)) Input { f(&in); return in }

func ruleWith(f func(*Rule)) Rule { r := delivery(); f(&r); return r }

// lines renders a breakdown as "code=amount ..." for compact expectations.
func lines(b Breakdown) string {
	parts := make([]string, len(b.Lines))
	for i, l := range b.Lines {
		parts[i] = fmt.Sprintf("%s=%d", l.Code, l.Amount)
	}
	return strings.Join(parts, " ")
}

func TestQuote(t *testing.T) {
	t.Parallel()
	std := []Surcharge{night, peak}
	cases := []struct {
		name   string
		rule   Rule
		sur    []Surcharge
		in     Input
		want   string // lines
		total  Money
		meters int64
	}{
		{name: "base only within included distance: 500 m ≤ 1000 m → base 400",
			rule: delivery(), in: order(500), want: "base=400", total: 400, meters: 500},
		{name: "exactly at boundary: 1000 m, extra 0 → no distance line",
			rule: delivery(), in: order(1000), want: "base=400", total: 400, meters: 1000},
		{name: "just above: 1001 m, extra 1 m → 1 step × 150/10 = 15",
			rule: delivery(), in: order(1001), want: "base=400 distance=15", total: 415, meters: 1001},
		{name: "one full step: 1100 m, extra 100 → 1 step = 15",
			rule: delivery(), in: order(1100), want: "base=400 distance=15", total: 415, meters: 1100},
		{name: "long: 5250 m, extra 4250 → ⌈42.5⌉ = 43 steps, (43×150+5)/10 = 645",
			rule: delivery(), in: order(5250), want: "base=400 distance=645", total: 1045, meters: 5250},
		{name: "detour 1.3: 800 m × 1.3 = 1040 m, extra 40 → 1 step = 15",
			rule: ruleWith(func(r *Rule) { r.DetourFactor = 1.3 }), in: order(800),
			want: "base=400 distance=15", total: 415, meters: 1040},
		{name: "detour 0 means 1.3: same as above",
			rule: ruleWith(func(r *Rule) { r.DetourFactor = 0 }), in: order(800),
			want: "base=400 distance=15", total: 415, meters: 1040},
		{name: "detour 3.0: 1000 m × 3 = 3000 m, extra 2000 → 20 steps = 300",
			rule: ruleWith(func(r *Rule) { r.DetourFactor = 3 }), in: order(1000),
			want: "base=400 distance=300", total: 700, meters: 3000},
		{name: "half 分 rounds up: ¥1.25/km, 1001 m → 1 step = 12.5 → 13",
			rule: ruleWith(func(r *Rule) { r.PerKmFee = 125 }), in: order(1001),
			want: "base=400 distance=13", total: 413, meters: 1001},
		{name: "rounded once, not per step: ¥1.25/km, 1101 m → 2 steps = 25 (not 13+13)",
			rule: ruleWith(func(r *Rule) { r.PerKmFee = 125 }), in: order(1101),
			want: "base=400 distance=25", total: 425, meters: 1101},
		{name: "¥1.25/km, 1201 m → 3 steps = 37.5 → 38",
			rule: ruleWith(func(r *Rule) { r.PerKmFee = 125 }), in: order(1201),
			want: "base=400 distance=38", total: 438, meters: 1201},
		{name: "¥0.01/km: 1 step = 0.1 → 0, no line; 5 steps = 0.5 → 1",
			rule: ruleWith(func(r *Rule) { r.PerKmFee = 1 }), in: order(1500),
			want: "base=400 distance=1", total: 401, meters: 1500},
		{name: "size medium +150",
			rule: delivery(), in: with(order(500), func(in *Input) { in.Size = "medium" }),
			want: "base=400 size=150", total: 550, meters: 500},
		{name: "size large +400",
			rule: delivery(), in: with(order(500), func(in *Input) { in.Size = "large" }),
			want: "base=400 size=400", total: 800, meters: 500},
		{name: "size small costs 0, no line",
			rule: delivery(), in: with(order(500), func(in *Input) { in.Size = "small" }),
			want: "base=400", total: 400, meters: 500},
		{name: "size empty allowed when a class is free",
			rule: delivery(), in: order(500), want: "base=400", total: 400, meters: 500},
		{name: "per-minute: queueing 30 min × 10 = 300, per-km 0 → 500+300",
			rule: Rule{BaseFee: 500, MinFee: 500, PerMinuteFee: 10, DetourFactor: 1},
			in:   with(order(500), func(in *Input) { in.TaskType = "queueing"; in.Minutes = 30 }),
			want: "base=500 time=300", total: 800, meters: 500},
		{name: "night at 23:30 Shanghai (15:30 UTC) +200",
			rule: delivery(), sur: std, in: with(order(500), func(in *Input) { in.At = utc(4, 15, 30, 0) }),
			want: "base=400 surcharge:night=200", total: 600, meters: 500},
		{name: "night at 05:59:59 Shanghai (21:59:59 UTC the day before) +200",
			rule: delivery(), sur: std, in: with(order(500), func(in *Input) { in.At = utc(3, 21, 59, 59) }),
			want: "base=400 surcharge:night=200", total: 600, meters: 500},
		{name: "night ends at 06:00 Shanghai (22:00 UTC): exclusive",
			rule: delivery(), sur: std, in: with(order(500), func(in *Input) { in.At = utc(3, 22, 0, 0) }),
			want: "base=400", total: 400, meters: 500},
		{name: "night starts at 22:00 Shanghai (14:00 UTC): inclusive",
			rule: delivery(), sur: std, in: with(order(500), func(in *Input) { in.At = utc(4, 14, 0, 0) }),
			want: "base=400 surcharge:night=200", total: 600, meters: 500},
		{name: "21:59 Shanghai (13:59 UTC): before night",
			rule: delivery(), sur: std, in: with(order(500), func(in *Input) { in.At = utc(4, 13, 59, 0) }),
			want: "base=400", total: 400, meters: 500},
		{name: "At in another zone is read on Shanghai's clock: 23:30 +08 given as 10:30 -05",
			rule: delivery(), sur: std,
			in: with(order(500), func(in *Input) {
				in.At = time.Date(2025, 3, 4, 10, 30, 0, 0, time.FixedZone("EST", -5*3600))
			}),
			want: "base=400 surcharge:night=200", total: 600, meters: 500},
		{name: "peak at 11:30 Shanghai (03:30 UTC) +100",
			rule: delivery(), sur: std, in: with(order(500), func(in *Input) { in.At = utc(4, 3, 30, 0) }),
			want: "base=400 surcharge:peak=100", total: 500, meters: 500},
		{name: "peak over at 12:30 Shanghai",
			rule: delivery(), sur: std, in: with(order(500), func(in *Input) { in.At = utc(4, 4, 30, 0) }),
			want: "base=400", total: 400, meters: 500},
		{name: "two overlapping at 12:15: peak 100 + lunch rush 50, in configured order",
			rule: delivery(), sur: []Surcharge{night, peak, lunch},
			in:   with(order(500), func(in *Input) { in.At = utc(4, 4, 15, 0) }),
			want: "base=400 surcharge:peak=100 surcharge:lunch_rush=50", total: 550, meters: 500},
		{name: "unnamed surcharge gets a generic label",
			rule: delivery(), sur: []Surcharge{{Code: "rain", From: "09:00", To: "11:00", Fee: 80}},
			in: order(500), want: "base=400 surcharge:rain=80", total: 480, meters: 500},
		{name: "minimum top-up: base 100 < min 400 → minimum 300",
			rule: ruleWith(func(r *Rule) { r.BaseFee = 100 }), in: order(500),
			want: "base=100 minimum=300", total: 400, meters: 500},
		{name: "minimum counts surcharges: base 100 + night 200 = 300 → minimum 100",
			rule: ruleWith(func(r *Rule) { r.BaseFee = 100 }), sur: std,
			in:   with(order(500), func(in *Input) { in.At = utc(4, 15, 30, 0) }),
			want: "base=100 surcharge:night=200 minimum=100", total: 400, meters: 500},
		{name: "minimum not needed: base 100 + 3000 m (20 steps = 300) = 400",
			rule: ruleWith(func(r *Rule) { r.BaseFee = 100 }), in: order(3000),
			want: "base=100 distance=300", total: 400, meters: 3000},
		{name: "tip is its own line and does not count toward the minimum",
			rule: ruleWith(func(r *Rule) { r.BaseFee = 100 }), in: with(order(500), func(in *Input) { in.Tip = 300 }),
			want: "base=100 minimum=300 tip=300", total: 700, meters: 500},
		{name: "tip at the cap ¥200",
			rule: delivery(), in: with(order(500), func(in *Input) { in.Tip = 20000 }),
			want: "base=400 tip=20000", total: 20400, meters: 500},
		{name: "coupon smaller than service: 400 − 150",
			rule: delivery(), in: with(order(500), func(in *Input) { in.Coupon = 150 }),
			want: "base=400 coupon=-150", total: 250, meters: 500},
		{name: "coupon larger than service: capped at service 415, tip survives",
			rule: delivery(), in: with(order(1001), func(in *Input) { in.Coupon = 1000; in.Tip = 200 }),
			want: "base=400 distance=15 tip=200 coupon=-415", total: 200, meters: 1001},
		{name: "coupon applies after the minimum: 100 + top-up 300 − 350",
			rule: ruleWith(func(r *Rule) { r.BaseFee = 100 }), in: with(order(500), func(in *Input) { in.Coupon = 350 }),
			want: "base=100 minimum=300 coupon=-350", total: 50, meters: 500},
		{name: "same place: distance 0 (queueing at the pickup)",
			rule: delivery(), in: order(0), want: "base=400", total: 400, meters: 0},
		{name: "doc example: 1234 m × 1.3 = 1604 m, 7 steps = 105; medium 150; night 200",
			rule: ruleWith(func(r *Rule) { r.DetourFactor = 0 }), sur: std,
			in:   with(order(1234), func(in *Input) { in.Size = "medium"; in.At = utc(4, 15, 30, 0) }),
			want: "base=400 distance=105 size=150 surcharge:night=200", total: 855, meters: 1604},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b, err := Quote(tc.rule, tc.sur, tc.in, shanghai)
			if err != nil {
				t.Fatalf("Quote: %v", err)
			}
			if got := lines(b); got != tc.want {
				t.Errorf("lines = %s\nwant    %s", got, tc.want)
			}
			if b.Total != tc.total || b.DistanceMeters != tc.meters {
				t.Errorf("total %d, %d m; want %d, %d m", b.Total, b.DistanceMeters, tc.total, tc.meters)
			}
			for _, l := range b.Lines {
				if l.Label.ZH == "" || l.Label.EN == "" {
					t.Errorf("line %s has no label in both languages: %+v", l.Code, l.Label)
				}
			}
		})
	}
}

func TestQuoteErrors(t *testing.T) {
	t.Parallel()
	valid := order(500)
	cases := []struct {
		name string
		rule Rule
		sur  []Surcharge
		in   Input
		loc  *time.Location
		want error
	}{
		{"latitude over 90", delivery(), nil, with(valid, func(in *Input) { in.Pickup.Lat = 90.0001 }), shanghai, ErrBadPoint},
		{"longitude under -180", delivery(), nil, with(valid, func(in *Input) { in.Dropoff.Lng = -180.5 }), shanghai, ErrBadPoint},
		{"NaN coordinate", delivery(), nil, with(valid, func(in *Input) { in.Dropoff.Lat = math.NaN() }), shanghai, ErrBadPoint},
		{"infinite coordinate", delivery(), nil, with(valid, func(in *Input) { in.Pickup.Lng = math.Inf(1) }), shanghai, ErrBadPoint},
		{"unknown size", delivery(), nil, with(valid, func(in *Input) { in.Size = "huge" }), shanghai, ErrUnknownSize},
		{"size on a type without sizes", Rule{BaseFee: 500}, nil, with(valid, func(in *Input) { in.Size = "small" }), shanghai, ErrUnknownSize},
		{"empty size when every class costs", ruleWith(func(r *Rule) { r.SizeFees = map[string]Money{"medium": 100} }), nil, valid, shanghai, ErrUnknownSize},
		{"negative minutes", delivery(), nil, with(valid, func(in *Input) { in.Minutes = -1 }), shanghai, ErrBadMinutes},
		{"minutes over 600", delivery(), nil, with(valid, func(in *Input) { in.Minutes = 601 }), shanghai, ErrBadMinutes},
		{"negative tip", delivery(), nil, with(valid, func(in *Input) { in.Tip = -1 }), shanghai, ErrBadTip},
		{"tip over ¥200", delivery(), nil, with(valid, func(in *Input) { in.Tip = 20001 }), shanghai, ErrBadTip},
		{"negative coupon", delivery(), nil, with(valid, func(in *Input) { in.Coupon = -1 }), shanghai, ErrBadCoupon},
		{"coupon over cap", delivery(), nil, with(valid, func(in *Input) { in.Coupon = MaxAmount + 1 }), shanghai, ErrBadCoupon},
		{"no order time", delivery(), nil, with(valid, func(in *Input) { in.At = time.Time{} }), shanghai, ErrBadTime},
		{"no location", delivery(), nil, valid, nil, ErrBadRule},
		{"negative base fee", ruleWith(func(r *Rule) { r.BaseFee = -1 }), nil, valid, shanghai, ErrBadRule},
		{"fee over cap", ruleWith(func(r *Rule) { r.PerKmFee = MaxAmount + 1 }), nil, valid, shanghai, ErrBadRule},
		{"negative included meters", ruleWith(func(r *Rule) { r.IncludedMeters = -1 }), nil, valid, shanghai, ErrBadRule},
		{"detour below 1", ruleWith(func(r *Rule) { r.DetourFactor = 0.9 }), nil, valid, shanghai, ErrBadRule},
		{"detour above 3", ruleWith(func(r *Rule) { r.DetourFactor = 3.01 }), nil, valid, shanghai, ErrBadRule},
		{"detour NaN", ruleWith(func(r *Rule) { r.DetourFactor = math.NaN() }), nil, valid, shanghai, ErrBadRule},
		{"negative size fee", ruleWith(func(r *Rule) { r.SizeFees["large"] = -5 }), nil, valid, shanghai, ErrBadRule},
		{"bad size key", ruleWith(func(r *Rule) { r.SizeFees["Large!"] = 5 }), nil, valid, shanghai, ErrBadRule},
		{"surcharge bad clock", delivery(), []Surcharge{{Code: "x", From: "24:00", To: "06:00", Fee: 1}}, valid, shanghai, ErrBadRule},
		{"surcharge empty window", delivery(), []Surcharge{{Code: "x", From: "06:00", To: "06:00", Fee: 1}}, valid, shanghai, ErrBadRule},
		{"surcharge zero fee", delivery(), []Surcharge{{Code: "x", From: "05:00", To: "06:00"}}, valid, shanghai, ErrBadRule},
		{"surcharge bad code", delivery(), []Surcharge{{Code: "Night", From: "05:00", To: "06:00", Fee: 1}}, valid, shanghai, ErrBadRule},
		{"surcharge duplicate code", delivery(), []Surcharge{night, night}, valid, shanghai, ErrBadRule},
	}
	sentinels := []error{ErrBadRule, ErrBadPoint, ErrUnknownSize, ErrBadMinutes, ErrBadTip, ErrBadCoupon, ErrBadTime}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := Quote(tc.rule, tc.sur, tc.in, tc.loc)
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			for _, s := range sentinels {
				if s != tc.want && errors.Is(err, s) {
					t.Errorf("err %v also matches %v; problem codes must be distinct", err, s)
				}
			}
		})
	}
}

func TestQuoteEdgesAccepted(t *testing.T) {
	t.Parallel()
	for _, in := range []Input{
		with(order(500), func(in *Input) { in.Minutes = MaxMinutes }),
		with(order(500), func(in *Input) { in.Pickup = Point{Lng: 180, Lat: 90}; in.Dropoff = Point{Lng: -180, Lat: -90} }),
		with(order(500), func(in *Input) { in.Coupon = MaxAmount }),
	} {
		if _, err := Quote(delivery(), nil, in, shanghai); err != nil {
			t.Errorf("%+v: %v", in, err)
		}
	}
}

func TestDistance(t *testing.T) {
	t.Parallel()
	oneDegree := EarthRadius * math.Pi / 180 // 111,195.08 m
	cases := []struct {
		name string
		a, b Point
		want float64
	}{
		{"same point", campus, campus, 0},
		{"one degree of latitude", Point{0, 0}, Point{0, 1}, oneDegree},
		{"one degree of longitude on the equator", Point{0, 0}, Point{1, 0}, oneDegree},
		{"antipodes", Point{0, 0}, Point{180, 0}, math.Pi * EarthRadius},
		{"pole to pole", Point{0, 90}, Point{0, -90}, math.Pi * EarthRadius},
		{"across the antimeridian", Point{179.5, 0}, Point{-179.5, 0}, oneDegree},
		{"1 km north on campus", campus, north(campus, 1000), 1000},
		// Reference from the spherical Vincenty formula, independent of haversine.
		{"Peking U. to Tsinghua", Point{116.3105, 39.9925}, Point{116.3264, 39.9996}, 1567.741},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := Distance(tc.a, tc.b)
			if math.Abs(got-tc.want) > 0.1 {
				t.Errorf("Distance = %.3f m, want %.3f", got, tc.want)
			}
			if back := Distance(tc.b, tc.a); back != got {
				t.Errorf("not symmetric: %v vs %v", got, back)
			}
		})
	}
}

func TestMoneyString(t *testing.T) {
	t.Parallel()
	for m, want := range map[Money]string{
		0: "¥0.00", 5: "¥0.05", 1234: "¥12.34", 100: "¥1.00", -5: "-¥0.05", -1234: "-¥12.34",
		math.MinInt64: "-¥92233720368547758.08", math.MaxInt64: "¥92233720368547758.07",
	} {
		if got := m.String(); got != want {
			t.Errorf("Money(%d) = %s, want %s", int64(m), got, want)
		}
	}
}

func TestFromBlueprint(t *testing.T) {
	t.Parallel()
	bp, err := blueprint.Load("default")
	if err != nil {
		t.Fatal(err)
	}
	var p blueprint.Pricing
	for _, tt := range bp.TaskTypes {
		if tt.Key == "item_delivery" {
			p = tt.Pricing
		}
	}
	r, sur, err := FromBlueprint(p, bp.Surcharges, 0)
	if err != nil {
		t.Fatal(err)
	}
	want := ruleWith(func(r *Rule) { r.DetourFactor = DefaultDetour })
	if !reflect.DeepEqual(r, want) {
		t.Errorf("rule = %+v\nwant   %+v", r, want)
	}
	if !reflect.DeepEqual(sur, []Surcharge{night, peak}) {
		t.Errorf("surcharges = %+v", sur)
	}

	t.Run("codes", func(t *testing.T) {
		t.Parallel()
		in := []blueprint.Surcharge{
			{Name: blueprint.Text{EN: "Night surcharge"}, From: "22:00", To: "06:00", Fee: 1},
			{Name: blueprint.Text{EN: "Night  Surcharge!"}, From: "22:00", To: "06:00", Fee: 1},
			{Name: blueprint.Text{ZH: "雨天"}, From: "08:00", To: "09:00", Fee: 1},
			{Name: blueprint.Text{EN: "24h rain"}, From: "08:00", To: "09:00", Fee: 1},
			{Name: blueprint.Text{EN: "Surcharge"}, From: "08:00", To: "09:00", Fee: 1},
		}
		_, got, err := FromBlueprint(blueprint.Pricing{}, in, 1)
		if err != nil {
			t.Fatal(err)
		}
		var codes []string
		for _, s := range got {
			codes = append(codes, s.Code)
		}
		if strings.Join(codes, " ") != "night night_2 s3 s24h_rain surcharge" {
			t.Errorf("codes = %v", codes)
		}
	})

	for _, tc := range []struct {
		name   string
		p      blueprint.Pricing
		s      []blueprint.Surcharge
		detour float64
	}{
		{"detour too small", p, nil, 0.5},
		{"negative fee", blueprint.Pricing{MinFee: -1}, nil, 1},
		{"surcharge bad time", p, []blueprint.Surcharge{{Name: blueprint.Text{EN: "x"}, From: "7:00", To: "08:00", Fee: 1}}, 1},
		{"surcharge without fee", p, []blueprint.Surcharge{{Name: blueprint.Text{EN: "x"}, From: "07:00", To: "08:00"}}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if _, _, err := FromBlueprint(tc.p, tc.s, tc.detour); !errors.Is(err, ErrBadRule) {
				t.Fatalf("err = %v, want ErrBadRule", err)
			}
		})
	}
}

// FuzzQuote feeds random rules and inputs; each must give an error from the documented set
// or a breakdown that keeps every invariant the student and the ledger rely on.
func FuzzQuote(f *testing.F) {
	f.Add(int64(400), int64(1000), int64(150), int64(400), int64(0), 1.3, int64(150),
		116.3105, 39.9925, 116.3264, 39.9996, "medium", 0, int64(0), int64(0), int64(1741082400), "22:00", "06:00")
	f.Add(int64(100), int64(0), int64(125), int64(900), int64(10), 1.0, int64(0),
		116.3105, 39.9925, 116.3105, 39.9925, "", 45, int64(500), int64(2000), int64(1741095000), "11:30", "12:30")
	f.Add(int64(0), int64(0), int64(1), int64(0), int64(0), 3.0, int64(0),
		0.0, 0.0, 180.0, 0.0, "small", 600, int64(20000), int64(1_000_000), int64(0), "00:00", "23:59")
	f.Add(int64(-1), int64(-5), int64(2_000_000), int64(400), int64(-3), math.NaN(), int64(-1),
		math.Inf(1), 91.0, -181.0, math.NaN(), "huge", -1, int64(-1), int64(-1), int64(-62135596800), "25:00", "x")

	sentinels := []error{ErrBadRule, ErrBadPoint, ErrUnknownSize, ErrBadMinutes, ErrBadTip, ErrBadCoupon, ErrBadTime}
	f.Fuzz(func(t *testing.T, base, included, perKm, minFee, perMin int64, detour float64, medium int64,
		pLng, pLat, dLng, dLat float64, size string, minutes int, tip, coupon, unix int64, from, to string) {
		// Fold amounts near their valid ranges so most inputs reach the arithmetic, while
		// values just outside still exercise validation.
		amount := func(v int64) Money { return Money(v % (int64(MaxAmount) + 2)) }
		r := Rule{BaseFee: amount(base), IncludedMeters: included % 100_000, PerKmFee: amount(perKm),
			MinFee: amount(minFee), PerMinuteFee: amount(perMin), DetourFactor: detour,
			SizeFees: map[string]Money{"small": 0, "medium": amount(medium)}}
		s := []Surcharge{night, {Code: "fuzz", Name: blueprint.Text{ZH: "测", EN: "fuzz"}, From: from, To: to, Fee: 30}}
		in := Input{TaskType: "t", Pickup: Point{pLng, pLat}, Dropoff: Point{dLng, dLat}, Size: size,
			Minutes: minutes % 700, Tip: Money(tip % (int64(MaxTip) + 2)), Coupon: amount(coupon),
			At: time.Unix(unix%(1<<40), 0)}

		b, err := Quote(r, s, in, shanghai)
		again, err2 := Quote(r, s, in, shanghai)
		if !reflect.DeepEqual(b, again) || (err == nil) != (err2 == nil) {
			t.Fatalf("not deterministic: %+v / %v vs %+v / %v", b, err, again, err2)
		}
		if err != nil {
			for _, s := range sentinels {
				if errors.Is(err, s) {
					return
				}
			}
			t.Fatalf("undocumented error %v", err)
		}
		var sum, service, tipLine, couponLine Money
		seen := map[string]bool{}
		for i, l := range b.Lines {
			if seen[l.Code] {
				t.Fatalf("duplicate line %s", l.Code)
			}
			seen[l.Code] = true
			if l.Label.ZH == "" || l.Label.EN == "" {
				t.Fatalf("line %s has a blank label", l.Code)
			}
			if i == 0 && l.Code != LineBase {
				t.Fatalf("first line %s, want base", l.Code)
			}
			sum += l.Amount
			switch l.Code {
			case LineTip:
				tipLine = l.Amount
			case LineCoupon:
				couponLine = l.Amount
			default:
				if l.Amount < 0 {
					t.Fatalf("negative service line %+v", l)
				}
				service += l.Amount
			}
		}
		switch {
		case sum != b.Total:
			t.Fatalf("lines sum to %d, total %d: %s", sum, b.Total, lines(b))
		case tipLine != in.Tip:
			t.Fatalf("tip line %d, tip %d", tipLine, in.Tip)
		case couponLine > 0 || -couponLine > in.Coupon || -couponLine > service:
			t.Fatalf("coupon line %d for coupon %d, service %d", couponLine, in.Coupon, service)
		case service < r.MinFee:
			t.Fatalf("service %d below minimum %d", service, r.MinFee)
		case b.Total < in.Tip:
			t.Fatalf("total %d below tip %d", b.Total, in.Tip)
		case b.Total < r.MinFee+in.Tip-in.Coupon:
			t.Fatalf("total %d below min %d + tip %d − coupon %d", b.Total, r.MinFee, in.Tip, in.Coupon)
		case b.DistanceMeters < 0 || float64(b.DistanceMeters) > math.Pi*EarthRadius*MaxDetour+1:
			t.Fatalf("distance %d m", b.DistanceMeters)
		}
	})
}

func BenchmarkQuote(b *testing.B) {
	r := delivery()
	s := []Surcharge{night, peak}
	in := with(order(2345), func(in *Input) { in.Size = "medium"; in.Tip = 200; in.At = utc(4, 15, 30, 0) })
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Quote(r, s, in, shanghai); err != nil {
			b.Fatal(err)
		}
	}
}
