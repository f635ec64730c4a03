package solver

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"github.com/paotui/paotui/internal/pricing"
)

// pairs renders a result as "order>courier ..." for compact expectations.
func pairs(r Result) string {
	s := make([]string, len(r.Pairs))
	for i, p := range r.Pairs {
		s[i] = p.OrderID + ">" + p.CourierID
	}
	return strings.Join(s, " ")
}

// distOnly weighs distance alone, so hand-computed costs are kilometres.
var distOnly = Weights{DistancePerKm: 1, MaxDistanceMeters: 3000}

func TestAssign(t *testing.T) {
	t.Parallel()
	o := func(id string, m float64) Order { return Order{ID: id, Pickup: north(m)} }
	c := func(id string, m float64) Courier { return Courier{ID: id, At: north(m), MaxLoad: 1, Credit: 100} }
	with := func(c Courier, f func(*Courier)) Courier { f(&c); return c }
	def := DefaultWeights()
	noBalance := def
	noBalance.Balance = 0

	cases := []struct {
		name       string
		orders     []Order
		couriers   []Courier
		w          Weights
		want       string  // pairs
		unassigned string  // ids
		total      float64 // cost units
		greedy     float64 // Greedy's total, when it assigns as many
	}{
		{name: "nearest courier wins: 500 m beats 1000 m",
			orders: []Order{o("o1", 0)}, couriers: []Courier{c("far", 1000), c("near", 500)},
			w: distOnly, want: "o1>near", total: 0.5, greedy: 0.5},
		{name: "greedy trap: o1 takes the courier o2 needs; optimum swaps, 1.1 km vs greedy 2.1 km",
			// o1@0 o2@1000, a@500 b@−600: greedy o1→a 0.5, o2→b 1.6; optimum o1→b 0.6, o2→a 0.5.
			orders: []Order{o("o1", 0), o("o2", 1000)}, couriers: []Courier{c("a", 500), c("b", -600)},
			w: distOnly, want: "o1>b o2>a", total: 1.1, greedy: 2.1},
		{name: "more orders before lower cost: o1 goes far so o2 is served",
			// o1 reaches a (100 m) and b (2500 m); o2 reaches only a (2000 m; b is 4400 m off).
			orders: []Order{o("o1", 0), o("o2", -2100)}, couriers: []Courier{c("a", -100), c("b", 2500)},
			w: distOnly, want: "o1>b o2>a", total: 4.5},
		{name: "a courier with room for two takes both; the second pays one more load",
			orders:   []Order{o("o1", 100), o("o2", 200)},
			couriers: []Courier{with(c("a", 0), func(c *Courier) { c.MaxLoad = 2 }), c("far", 5000)},
			w:        Weights{DistancePerKm: 1, Load: 0.3, MaxDistanceMeters: 3000},
			want:     "o1>a o2>a", total: 0.1 + 0.2 + 0.3, greedy: 0.6},
		{name: "the load term already counts orders carried: 1 active × 0.3 ⇒ 600 m is dearer than 800 m",
			orders: []Order{o("o1", 0)},
			couriers: []Courier{with(c("busy", 600), func(c *Courier) { c.Load, c.MaxLoad = 1, 3 }),
				c("free", 800)},
			w: Weights{DistancePerKm: 1, Load: 0.3, MaxDistanceMeters: 3000}, want: "o1>free", total: 0.8},
		{name: "10 idle minutes (−0.2) beat 150 m: 450 − 200 < 300",
			orders: []Order{o("o1", 0)},
			couriers: []Courier{c("busy", 300),
				with(c("idle", 450), func(c *Courier) { c.IdleSeconds = 600 })},
			w: def, want: "o1>idle", total: 0.25},
		{name: "idle bonus capped at 30 min: 10 h idle is −0.6, not −12",
			orders: []Order{o("o1", 0)},
			couriers: []Courier{c("near", 100),
				with(c("asleep", 1000), func(c *Courier) { c.IdleSeconds = 36000 })},
			w: def, want: "o1>near", total: 0.1},
		{name: "credit 90 costs 0.1: 250 m at 90 loses to 300 m at 100",
			orders: []Order{o("o1", 0)},
			couriers: []Courier{c("good", 300),
				with(c("poor", 250), func(c *Courier) { c.Credit = 90 })},
			w: def, want: "o1>good", total: 0.3},
		{name: "balancing: ¥50 above the average costs 1.25, so the far low earner gets it",
			orders: []Order{o("o1", 0)},
			couriers: []Courier{with(c("rich", 300), func(c *Courier) { c.EarnedToday = 10000 }),
				c("poor", 800)},
			w: def, want: "o1>poor", total: 0.8},
		{name: "without balancing the near high earner gets it",
			orders: []Order{o("o1", 0)},
			couriers: []Courier{with(c("rich", 300), func(c *Courier) { c.EarnedToday = 10000 }),
				c("poor", 800)},
			w: noBalance, want: "o1>rich", total: 0.3, greedy: 0.3},
		{name: "a full courier is skipped",
			orders:   []Order{o("o1", 0)},
			couriers: []Courier{with(c("full", 100), func(c *Courier) { c.Load = 1 }), c("free", 900)},
			w:        distOnly, want: "o1>free", total: 0.9, greedy: 0.9},
		{name: "beyond MaxDistanceMeters nobody takes it",
			orders: []Order{o("o1", 0)}, couriers: []Courier{c("far", 3001)},
			w: distOnly, unassigned: "o1"},
		{name: "no limit when MaxDistanceMeters is 0",
			orders: []Order{o("o1", 0)}, couriers: []Courier{c("far", 30000)},
			w: Weights{DistancePerKm: 1}, want: "o1>far", total: 30, greedy: 30},
		{name: "shortage: one courier serves the cheapest order",
			orders:   []Order{o("o1", 900), o("o2", 100), o("o3", 500)},
			couriers: []Courier{c("a", 0)},
			w:        distOnly, want: "o2>a", unassigned: "o1 o3", total: 0.1, greedy: -1},
		{name: "ties go to the earlier courier",
			orders: []Order{o("o1", 0)}, couriers: []Courier{c("first", 400), c("second", -400)},
			w: distOnly, want: "o1>first", total: 0.4, greedy: 0.4},
		{name: "ties go to the earlier order",
			orders: []Order{o("o1", 400), o("o2", -400)}, couriers: []Courier{c("a", 0)},
			w: distOnly, want: "o1>a", unassigned: "o2", total: 0.4, greedy: 0.4},
		{name: "an invalid point is infeasible, not an error",
			orders:   []Order{{ID: "o1", Pickup: Point{Lng: math.NaN()}}, o("o2", 0)},
			couriers: []Courier{c("a", 100), {ID: "lost", At: Point{Lng: 200}, MaxLoad: 1}},
			w:        distOnly, want: "o2>a", unassigned: "o1", total: 0.1, greedy: 0.1},
		{name: "a courier who declined the order is never offered it again, however near",
			orders:   []Order{{ID: "o1", Pickup: north(0), Excluded: []string{"near"}}},
			couriers: []Courier{c("near", 100), c("far", 900)},
			w:        distOnly, want: "o1>far", total: 0.9, greedy: 0.9},
		{name: "an exclusion binds one order only: o1's decliner still takes o2",
			orders:   []Order{{ID: "o1", Pickup: north(0), Excluded: []string{"a"}}, o("o2", 200)},
			couriers: []Courier{c("a", 100), c("b", 2000)},
			w:        distOnly, want: "o1>b o2>a", total: 2.1, greedy: 2.1},
		{name: "excluded by everyone: unassigned; unknown ids are ignored",
			orders:   []Order{{ID: "o1", Pickup: north(0), Excluded: []string{"a", "ghost"}}},
			couriers: []Courier{c("a", 100)},
			w:        distOnly, unassigned: "o1"},
		{name: "no couriers", orders: []Order{o("o1", 0)}, w: def, unassigned: "o1"},
		{name: "no orders", couriers: []Courier{c("a", 0)}, w: def},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := Assign(tc.orders, tc.couriers, tc.w)
			checkInvariants(t, tc.orders, tc.couriers, tc.w, r)
			if got := pairs(r); got != tc.want {
				t.Errorf("pairs %q, want %q", got, tc.want)
			}
			if got := strings.Join(r.Unassigned, " "); got != tc.unassigned {
				t.Errorf("unassigned %q, want %q", got, tc.unassigned)
			}
			if math.Abs(r.TotalCost-tc.total) > 1e-9 {
				t.Errorf("total %v, want %v", r.TotalCost, tc.total)
			}
			if tc.greedy > 0 {
				if g := Greedy(tc.orders, tc.couriers, tc.w); math.Abs(g.TotalCost-tc.greedy) > 1e-9 {
					t.Errorf("greedy total %v, want %v", g.TotalCost, tc.greedy)
				}
			}
		})
	}
}

func TestExplain(t *testing.T) {
	t.Parallel()
	// Two couriers earned ¥30 and ¥10: the average is ¥20, so "a" is ¥10 above it.
	couriers := []Courier{
		{ID: "a", At: north(1234), IdleSeconds: 600, Load: 1, MaxLoad: 3, Credit: 80, EarnedToday: 3000},
		{ID: "b", At: north(-2900), MaxLoad: 1, Credit: 100, EarnedToday: 1000},
	}
	orders := []Order{{ID: "o1", Pickup: campus}, {ID: "o2", Pickup: north(1000)}}
	r := Assign(orders, couriers, DefaultWeights())
	checkInvariants(t, orders, couriers, DefaultWeights(), r)
	// o1 can go to b (2.9) or a (1.234 − 0.2 + 0.3 + 0.2 + 0.25 = 1.784); o2 to a only
	// (b is 3.9 km off). Both on a: 1.784 + (0.234 − 0.2 + 0.6 + 0.2 + 0.25 = 1.084).
	want := []Pair{
		{OrderID: "o1", CourierID: "a", Cost: 1.784, Explanation: []Term{
			{TermDistance, 1.234, 1234}, {TermIdle, -0.2, 10}, {TermLoad, 0.3, 1},
			{TermCredit, 0.2, 20}, {TermBalance, 0.25, 10}}},
		{OrderID: "o2", CourierID: "a", Cost: 1.084, Explanation: []Term{
			{TermDistance, 0.234, 234}, {TermIdle, -0.2, 10}, {TermLoad, 0.6, 2},
			{TermCredit, 0.2, 20}, {TermBalance, 0.25, 10}}},
	}
	if !reflect.DeepEqual(r.Pairs, want) {
		t.Errorf("pairs\n got %+v\nwant %+v", r.Pairs, want)
	}
	m := Costs(orders, couriers, DefaultWeights())
	if got := m.Cost(1, 1, 0); !math.IsInf(got, 1) || m.Explain(1, 1, 0) != nil {
		t.Errorf("infeasible pair: cost %v, explanation %v", got, m.Explain(1, 1, 0))
	}
}

func TestWeightsValidate(t *testing.T) {
	t.Parallel()
	if err := DefaultWeights().Validate(); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	bad := []func(*Weights){
		func(w *Weights) { w.DistancePerKm = -1 },
		func(w *Weights) { w.Idle = math.NaN() },
		func(w *Weights) { w.Balance = math.Inf(1) },
		func(w *Weights) { w.MaxDistanceMeters = -5 },
	}
	for i, f := range bad {
		w := DefaultWeights()
		f(&w)
		if err := w.Validate(); err == nil {
			t.Errorf("case %d: %+v validated", i, w)
		}
	}
	w := DefaultWeights()
	w.MaxDistanceMeters = math.Inf(1)
	if err := w.Validate(); err != nil {
		t.Errorf("+Inf distance limit: %v", err)
	}
}

// TestDistanceMatchesPricing pins the solver's chord formula to the haversine the prices are
// quoted with, so a distance shown to an admin is the one the student paid for.
func TestDistanceMatchesPricing(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		a := Point{Lng: rng.Float64()*360 - 180, Lat: rng.Float64()*180 - 90}
		b := Point{Lng: a.Lng + rng.NormFloat64()*0.01, Lat: math.Max(-90, math.Min(90, a.Lat+rng.NormFloat64()*0.01))}
		if rng.IntN(4) == 0 {
			b = Point{Lng: rng.Float64()*360 - 180, Lat: rng.Float64()*178 - 89}
		}
		got := distance(a, b)
		want := pricing.Distance(pricing.Point(a), pricing.Point(b))
		if math.Abs(got-want) > 1e-6*math.Max(1, want/1e3) {
			t.Fatalf("distance(%v, %v) = %.9f, pricing says %.9f", a, b, got, want)
		}
	}
}

func TestMatchesBruteForce(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(7, 11))
	excluded := 0
	for n := range 300 {
		g := gen{orders: 1 + rng.IntN(6), couriers: 1 + rng.IntN(5), side: 3000, capMin: 1, capMax: 2}
		if n%5 == 0 {
			g.capMin = 0 // some couriers full
		}
		orders, couriers := g.instance(rng)
		if n%2 == 1 {
			excluded += excludeSome(rng, orders, couriers, 0.3) // some couriers declined some orders
		}
		w := randomWeights(rng)
		w.MaxDistanceMeters = 1500 // a 3 km square: many pairs infeasible
		m := Costs(orders, couriers, w)
		r := m.Assign()
		checkInvariants(t, orders, couriers, w, r)
		count, cost := bruteForce(&m)
		if len(r.Pairs) != count || r.TotalCost != float64(cost)/milli {
			t.Fatalf("instance %d (%d×%d): assigned %d at %v, brute force %d at %v",
				n, len(orders), len(couriers), len(r.Pairs), r.TotalCost, count, float64(cost)/milli)
		}
	}
	if excluded < 100 {
		t.Fatalf("only %d pairs excluded: the instances hardly test exclusions", excluded)
	}
}

func TestNeverWorseThanGreedy(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(3, 5))
	better := 0
	for n := range 200 {
		g := gen{orders: 50, couriers: 20, side: 3000, capMin: 1, capMax: 3}
		orders, couriers := g.instance(rng)
		if n%3 == 2 {
			excludeSome(rng, orders, couriers, 0.1)
		}
		w := DefaultWeights()
		if n%2 == 1 {
			w = randomWeights(rng)
		}
		m := Costs(orders, couriers, w)
		a, gr := m.Assign(), m.Greedy()
		checkInvariants(t, orders, couriers, w, a)
		if count, cost := referenceFlow(&m); len(a.Pairs) != count || a.TotalCost != float64(cost)/milli {
			t.Fatalf("instance %d: assigned %d at %v, reference flow %d at %v",
				n, len(a.Pairs), a.TotalCost, count, float64(cost)/milli)
		}
		checkInvariants(t, orders, couriers, w, gr)
		switch {
		case len(a.Pairs) < len(gr.Pairs):
			t.Fatalf("instance %d: assign %d orders, greedy %d", n, len(a.Pairs), len(gr.Pairs))
		case len(a.Pairs) == len(gr.Pairs) && a.TotalCost > gr.TotalCost+1e-9:
			t.Fatalf("instance %d: assign cost %v > greedy %v", n, a.TotalCost, gr.TotalCost)
		case len(a.Pairs) > len(gr.Pairs) || a.TotalCost < gr.TotalCost-1e-9:
			better++
		}
	}
	if better == 0 {
		t.Error("assign never beat greedy: the instances are too easy to test anything")
	}
}

func TestDeterministic(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(9, 9))
	for range 20 {
		orders, couriers := gen{orders: 60, couriers: 25, side: 2000, capMin: 1, capMax: 3}.instance(rng)
		// Duplicate couriers and orders at the same spots make ties everywhere.
		couriers = append(couriers, couriers[:5]...)
		orders = append(orders, orders[:10]...)
		for j := range couriers[25:] {
			couriers[25+j].ID += "dup"
		}
		for i := range orders[60:] {
			orders[60+i].ID += "dup"
		}
		first := Assign(orders, couriers, DefaultWeights())
		for range 3 {
			if again := Assign(orders, couriers, DefaultWeights()); !reflect.DeepEqual(first, again) {
				t.Fatal("same input, different result")
			}
		}
	}
}

func TestGini(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		values []int64
		want   float64
	}{
		{"empty", nil, 0},
		{"all zero", []int64{0, 0, 0}, 0},
		{"equal", []int64{5, 5, 5, 5}, 0},
		{"one holds all of two", []int64{0, 10}, 0.5},
		{"one holds all of four", []int64{0, 0, 7, 0}, 0.75},
		// Mean absolute difference over all 9 ordered pairs of {1,2,3} is 8/9; mean 2 → 2/9.
		{"1 2 3", []int64{3, 1, 2}, 2.0 / 9},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := Gini(tc.values); math.Abs(got-tc.want) > 1e-12 {
				t.Errorf("Gini(%v) = %v, want %v", tc.values, got, tc.want)
			}
		})
	}
}

// FuzzAssign decodes a small batch from the fuzz bytes, with NaN, out-of-range and negative
// values among the inputs and weights and couriers excluded from orders, and checks that Assign does not panic, keeps every
// invariant and matches the brute-force optimum.
func FuzzAssign(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{3, 2, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 1, 2, 3, 4, 5})
	f.Add([]byte("\x06\x05 almost any bytes make a batch; these make a busy one ......................"))
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, data []byte) {
		next := func() byte {
			if len(data) == 0 {
				return 0
			}
			b := data[0]
			data = data[1:]
			return b
		}
		coord := func() float64 {
			b := next()
			switch b {
			case 0xff:
				return math.NaN()
			case 0xfe:
				return 500 // out of range
			}
			return float64(b) * 20 // metres on a ~5 km line
		}
		at := func() Point {
			p := offset(coord(), coord())
			if math.IsNaN(p.Lng) || math.IsNaN(p.Lat) || p.Lat > 90 {
				return Point{Lng: math.NaN(), Lat: 500}
			}
			return p
		}
		head := next()
		nOrders, nCouriers := int(head%7), int(head/7%6)
		weight := func() float64 {
			b := next()
			switch b {
			case 0xff:
				return math.NaN()
			case 0xfe:
				return -1
			case 0xfd:
				return math.Inf(1)
			}
			return float64(b) / 64
		}
		w := Weights{DistancePerKm: weight(), Idle: weight(), Load: weight(), Credit: weight(),
			Balance: weight(), MaxIdleMinutes: weight() * 10, MaxDistanceMeters: weight() * 1000}
		orders := make([]Order, nOrders)
		for i := range orders {
			orders[i] = Order{ID: fmt.Sprint("o", i), Pickup: at()}
			// One byte per order: bit j excludes courier j (bits past the couriers name
			// couriers that are not in the batch, which must be ignored).
			for mask, j := next(), 0; mask != 0; mask, j = mask>>1, j+1 {
				if mask&1 == 1 {
					orders[i].Excluded = append(orders[i].Excluded, fmt.Sprint("c", j))
				}
			}
		}
		couriers := make([]Courier, nCouriers)
		for j := range couriers {
			var raw [8]byte
			for x := range raw[:4] {
				raw[x] = next()
			}
			couriers[j] = Courier{ID: fmt.Sprint("c", j), At: at(),
				IdleSeconds: int64(int32(binary.LittleEndian.Uint32(raw[:]))) * 7,
				Load:        int(int8(next())) % 4, MaxLoad: int(next() % 4),
				Credit: int(int8(next())), EarnedToday: int64(int16(binary.LittleEndian.Uint16([]byte{next(), next()}))) * 100}
		}
		m := Costs(orders, couriers, w)
		r := m.Assign()
		checkInvariants(t, orders, couriers, w.sanitized(), r)
		count, cost := bruteForce(&m)
		if len(r.Pairs) != count || r.TotalCost != float64(cost)/milli {
			t.Fatalf("assigned %d at %v, brute force %d at %v", len(r.Pairs), r.TotalCost, count, float64(cost)/milli)
		}
		g := m.Greedy()
		checkInvariants(t, orders, couriers, w.sanitized(), g)
		if len(g.Pairs) > count || (len(g.Pairs) == count && g.TotalCost < r.TotalCost) {
			t.Fatalf("greedy %d at %v beats assign %d at %v", len(g.Pairs), g.TotalCost, count, r.TotalCost)
		}
	})
}

// TestBalancingLowersGini is the fairness claim in the package documentation: on simulated
// days the balancing term spreads earnings more evenly, for a modest amount of extra travel.
func TestBalancingLowersGini(t *testing.T) {
	t.Parallel()
	without, with, ratio := balancing(3)
	if !(with < without*0.8) {
		t.Errorf("Gini %.3f with balancing, %.3f without: want at least 20%% lower", with, without)
	}
	if !(ratio < 1.25) {
		t.Errorf("balancing costs %.2f× the pickup distance, want < 1.25×", ratio)
	}
}
