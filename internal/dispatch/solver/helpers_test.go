package solver

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// campus is a point on a campus. Points north of it lie on its meridian, where the great-circle
// distance is exactly R·Δφ, so hand-computed costs use whole metres.
var campus = Point{Lng: 116.3105, Lat: 39.9925}

func north(meters float64) Point {
	return Point{Lng: campus.Lng, Lat: campus.Lat + meters/earthRadius*180/math.Pi}
}

// offset moves meters east and north of campus (flat-earth, fine for generated instances).
func offset(east, northM float64) Point {
	const deg = 180 / math.Pi
	return Point{
		Lng: campus.Lng + east/(earthRadius*math.Cos(campus.Lat/deg))*deg,
		Lat: campus.Lat + northM/earthRadius*deg,
	}
}

// gen describes a family of random instances.
type gen struct {
	orders, couriers int     // exact sizes
	side             float64 // metres: points are uniform in a side × side square
	capMin, capMax   int     // MaxLoad − Load is uniform in [capMin, capMax]
}

func (g gen) instance(rng *rand.Rand) ([]Order, []Courier) {
	at := func() Point { return offset(rng.Float64()*g.side, rng.Float64()*g.side) }
	orders := make([]Order, g.orders)
	for i := range orders {
		orders[i] = Order{ID: fmt.Sprintf("o%d", i), Pickup: at(), Reward: 300 + rng.Int64N(500)}
	}
	couriers := make([]Courier, g.couriers)
	for j := range couriers {
		load := rng.IntN(3)
		couriers[j] = Courier{
			ID:          fmt.Sprintf("c%d", j),
			At:          at(),
			IdleSeconds: rng.Int64N(3600),
			Load:        load,
			MaxLoad:     load + g.capMin + rng.IntN(g.capMax-g.capMin+1),
			Credit:      60 + rng.IntN(41),
			EarnedToday: rng.Int64N(20000),
		}
	}
	return orders, couriers
}

// excludeSome makes each (order, courier) pair excluded with probability p, as if the courier
// had declined the order, and returns how many pairs it excluded.
func excludeSome(rng *rand.Rand, orders []Order, couriers []Courier, p float64) int {
	n := 0
	for i := range orders {
		for _, c := range couriers {
			if rng.Float64() < p {
				orders[i].Excluded = append(orders[i].Excluded, c.ID)
				n++
			}
		}
	}
	return n
}

// randomWeights are default-ish weights with each term sometimes switched off or strong, so
// tests cover models where distance does not dominate.
func randomWeights(rng *rand.Rand) Weights {
	w := DefaultWeights()
	pick := func(v float64) float64 {
		switch rng.IntN(4) {
		case 0:
			return 0
		case 1:
			return v * 20
		}
		return v * rng.Float64() * 2
	}
	w.DistancePerKm = pick(w.DistancePerKm)
	w.Idle, w.Load, w.Credit, w.Balance = pick(w.Idle), pick(w.Load), pick(w.Credit), pick(w.Balance)
	return w
}

// bruteForce enumerates every assignment (each order to a feasible courier with room, or to
// nobody) and returns the best by the documented objective: most orders, then least cost.
func bruteForce(m *Matrix) (count int, cost int64) {
	n, k := m.Orders(), m.Couriers()
	used := make([]int, k)
	bestCount, bestCost := -1, int64(0)
	var rec func(i, cnt int, c int64)
	rec = func(i, cnt int, c int64) {
		if i == n {
			if cnt > bestCount || (cnt == bestCount && c < bestCost) {
				bestCount, bestCost = cnt, c
			}
			return
		}
		rec(i+1, cnt, c)
		for j := range k {
			if m.Feasible(i, j) && used[j] < m.Capacity(j) {
				// Slots are taken in order, so the load term is slot used[j]'s.
				pc := m.costMilli(i, j, used[j])
				used[j]++
				rec(i+1, cnt+1, c+pc)
				used[j]--
			}
		}
	}
	rec(0, 0, 0)
	return bestCount, bestCost
}

// checkInvariants asserts what must hold of any Result for the batch, optimal or not.
func checkInvariants(t testing.TB, orders []Order, couriers []Courier, w Weights, r Result) {
	t.Helper()
	m := Costs(orders, couriers, w)
	oi := map[string]int{}
	for i, o := range orders {
		oi[o.ID] = i
	}
	ci := map[string]int{}
	for j, c := range couriers {
		ci[c.ID] = j
	}
	if got := len(r.Pairs) + len(r.Unassigned); got != len(orders) {
		t.Fatalf("%d pairs + %d unassigned, want %d orders", len(r.Pairs), len(r.Unassigned), len(orders))
	}
	seen := map[string]bool{}
	taken := make([]int, len(couriers))
	var total float64
	last := -1
	for _, p := range r.Pairs {
		i, j := oi[p.OrderID], ci[p.CourierID]
		if seen[p.OrderID] {
			t.Fatalf("order %s assigned twice", p.OrderID)
		}
		seen[p.OrderID] = true
		if i <= last {
			t.Fatalf("pairs not in order input order at %s", p.OrderID)
		}
		last = i
		if !m.Feasible(i, j) {
			t.Fatalf("infeasible pair %s→%s chosen", p.OrderID, p.CourierID)
		}
		if slices.Contains(orders[i].Excluded, p.CourierID) {
			t.Fatalf("pair %s→%s chosen, but the order excludes the courier", p.OrderID, p.CourierID)
		}
		if d := distance(orders[i].Pickup, couriers[j].At); w.MaxDistanceMeters > 0 && d > w.MaxDistanceMeters {
			t.Fatalf("pair %s→%s is %.1f m apart, limit %.0f", p.OrderID, p.CourierID, d, w.MaxDistanceMeters)
		}
		taken[j]++
		var sum float64
		for _, term := range p.Explanation {
			sum += term.Value
		}
		if len(p.Explanation) != 5 || math.Abs(sum-p.Cost) > 1e-9 {
			t.Fatalf("pair %s→%s: explanation %v sums to %v, cost %v", p.OrderID, p.CourierID, p.Explanation, sum, p.Cost)
		}
		total += p.Cost
	}
	for _, id := range r.Unassigned {
		if seen[id] {
			t.Fatalf("order %s both assigned and unassigned", id)
		}
		seen[id] = true
	}
	for j, c := range couriers {
		if room := max(c.MaxLoad-max(c.Load, 0), 0); taken[j] > room {
			t.Fatalf("courier %s took %d orders, room for %d", c.ID, taken[j], room)
		}
	}
	if math.Abs(total-r.TotalCost) > 1e-6 {
		t.Fatalf("total %v, pairs sum to %v", r.TotalCost, total)
	}
}

// referenceFlow is an independent, slow oracle for medium instances: min-cost max-flow by
// successive shortest paths with Bellman-Ford on the explicit graph, one unit edge per courier
// slot. It returns the number of orders assigned and the total cost in milli-units.
func referenceFlow(m *Matrix) (count int, cost int64) {
	n, k := m.Orders(), m.Couriers()
	type edge struct {
		to, rev int
		cap     int
		cost    int64
	}
	src, sink := n+k, n+k+1
	g := make([][]edge, n+k+2)
	add := func(a, b int, c int64) {
		g[a] = append(g[a], edge{to: b, rev: len(g[b]), cap: 1, cost: c})
		g[b] = append(g[b], edge{to: a, rev: len(g[a]) - 1, cap: 0, cost: -c})
	}
	for i := range n {
		add(src, i, 0)
		for j := range k {
			if m.Feasible(i, j) {
				add(i, n+j, m.cost[i*k+j])
			}
		}
	}
	for j := range k {
		for s := range min(m.Capacity(j), n) {
			add(n+j, sink, m.slotMilli(j, s))
		}
	}
	const inf = math.MaxInt64 / 4
	dist := make([]int64, len(g))
	pv, pe := make([]int, len(g)), make([]int, len(g))
	for {
		for v := range dist {
			dist[v] = inf
		}
		dist[src] = 0
		for changed := true; changed; {
			changed = false
			for v := range g {
				if dist[v] == inf {
					continue
				}
				for x, e := range g[v] {
					if e.cap > 0 && dist[v]+e.cost < dist[e.to] {
						dist[e.to], pv[e.to], pe[e.to], changed = dist[v]+e.cost, v, x, true
					}
				}
			}
		}
		if dist[sink] == inf {
			return count, cost
		}
		for v := sink; v != src; v = pv[v] {
			e := &g[pv[v]][pe[v]]
			e.cap--
			g[v][e.rev].cap++
		}
		count++
		cost += dist[sink]
	}
}

// day is the outcome of a simulated day of automatic dispatch.
type day struct {
	earned   []int64 // 分 per courier at the end of the day
	meters   float64 // total courier-to-pickup distance of every assignment
	assigned int
}

// simulateDay runs batches of orders over the same couriers on a 3 km campus where 70% of
// pickups cluster around three canteens and gates. Each courier waits at a base of their own,
// a third of them beside a hotspot, and returns there after delivering, as couriers do; so
// without balancing the couriers who wait at the canteens take most of the work. Between
// batches loads drop back to 0 and couriers who got nothing accumulate idle time.
func simulateDay(seed uint64, w Weights, batches, perBatch, couriers int) day {
	rng := rand.New(rand.NewPCG(seed, 42))
	const side, interval = 3000.0, 180 // metres; seconds between batches
	hot := [][2]float64{{800, 900}, {2200, 700}, {1500, 2300}}
	pickup := func() Point {
		if rng.IntN(10) < 7 {
			h := hot[rng.IntN(len(hot))]
			return offset(h[0]+rng.NormFloat64()*250, h[1]+rng.NormFloat64()*250)
		}
		return offset(rng.Float64()*side, rng.Float64()*side)
	}
	cs := make([]Courier, couriers)
	for j := range cs {
		base := offset(rng.Float64()*side, rng.Float64()*side)
		if j%3 == 0 {
			h := hot[j/3%len(hot)]
			base = offset(h[0]+rng.NormFloat64()*100, h[1]+rng.NormFloat64()*100)
		}
		cs[j] = Courier{ID: fmt.Sprint("c", j), At: base,
			MaxLoad: 2, Credit: 70 + rng.IntN(31), IdleSeconds: rng.Int64N(600)}
	}
	var d day
	for b := range batches {
		orders := make([]Order, perBatch)
		for i := range orders {
			orders[i] = Order{ID: fmt.Sprint("b", b, "o", i), Pickup: pickup(), Reward: 300 + rng.Int64N(501)}
		}
		r := Assign(orders, cs, w)
		got := make(map[string]bool, len(cs))
		byID := make(map[string]int, len(cs))
		for j, c := range cs {
			byID[c.ID] = j
		}
		for _, p := range r.Pairs {
			j := byID[p.CourierID]
			o := orders[indexOf(orders, p.OrderID)]
			d.meters += distance(o.Pickup, cs[j].At)
			cs[j].EarnedToday += o.Reward
			got[p.CourierID] = true
			d.assigned++
		}
		for j := range cs {
			if got[cs[j].ID] {
				cs[j].IdleSeconds = 0
			} else {
				cs[j].IdleSeconds += interval
			}
		}
	}
	for _, c := range cs {
		d.earned = append(d.earned, c.EarnedToday)
	}
	return d
}

func indexOf(orders []Order, id string) int {
	for i, o := range orders {
		if o.ID == id {
			return i
		}
	}
	panic("unknown order " + id)
}

// balancing compares days with the default weights against the same days with Balance = 0,
// averaged over seeds: the Gini coefficient of the couriers' final earnings in each, and the
// extra pickup distance balancing costs as a ratio.
func balancing(seeds int) (giniWithout, giniWith, distanceRatio float64) {
	with := DefaultWeights()
	without := with
	without.Balance = 0
	var mWith, mWithout float64
	for s := range seeds {
		a := simulateDay(uint64(s), without, 40, 20, 15)
		b := simulateDay(uint64(s), with, 40, 20, 15)
		giniWithout += Gini(a.earned) / float64(seeds)
		giniWith += Gini(b.earned) / float64(seeds)
		mWithout += a.meters
		mWith += b.meters
	}
	if mWithout == 0 {
		return giniWithout, giniWith, math.NaN()
	}
	return giniWithout, giniWith, mWith / mWithout
}
