package solver

import "math"

// earthRadius is the mean Earth radius in metres (IUGG), the one pricing.Distance uses, so a
// distance the dispatcher explains is the distance the price was quoted on.
const earthRadius = 6_371_008.8

// milli is the fixed-point scale of every cost inside the solver: terms are rounded to 1/1000
// of a cost unit (1 m at the default distance weight) before they are added, so the optimum
// is exact integer arithmetic and the explanation adds up to the cost to the last digit.
const milli = 1000

// maxTerm bounds one term, in milli-units (a million cost units). No sane configuration comes
// near it; the bound keeps sums and the solver's potentials far from int64 overflow whatever
// the weights and inputs.
const maxTerm = 1_000_000 * milli

// infeasible marks a pair that may not be assigned in Matrix.cost. It is a finite number so
// the solver's inner loop can add it without a branch (see flow): with every real cost and
// potential below 2⁵⁸ in magnitude, a sum involving it stays above any open key and below
// int64 overflow.
const infeasible = 1 << 61

// vec is a point on the unit sphere. Distances are computed from chords between vecs: the
// chord c and the haversine h are related by h = c²/4 exactly, so this is the haversine
// formula, but the per-point trigonometry is done once per point instead of once per pair.
type vec struct{ x, y, z float64 }

func toVec(p Point) vec {
	const rad = math.Pi / 180
	lat, lng := p.Lat*rad, p.Lng*rad
	cl := math.Cos(lat)
	return vec{cl * math.Cos(lng), cl * math.Sin(lng), math.Sin(lat)}
}

// chord2 is the squared chord between two unit vectors; differences of nearby coordinates
// are exact enough that short distances keep sub-millimetre precision.
func chord2(a, b vec) float64 {
	dx, dy, dz := a.x-b.x, a.y-b.y, a.z-b.z
	return dx*dx + dy*dy + dz*dz
}

// arc converts a squared chord to metres along the great circle: 2R·asin(chord/2).
func arc(c2 float64) float64 {
	x := math.Sqrt(c2) / 2
	if x < 0.01 {
		// Below ~127 km the Taylor series to x⁷ is exact to the last bit (the next term is
		// 35x⁹/1152 < 10⁻¹⁷·x) and three times faster than math.Asin; this is Costs' inner loop.
		x2 := x * x
		return 2 * earthRadius * x * (1 + x2*(1.0/6+x2*(3.0/40+x2*(5.0/112))))
	}
	// Rounding can push the half chord a hair above 1 for antipodes; Asin would return NaN.
	return 2 * earthRadius * math.Asin(math.Min(1, x))
}

// distance is the great-circle distance between a and b in metres.
func distance(a, b Point) float64 { return arc(chord2(toVec(a), toVec(b))) }

// quantize rounds a term in cost units to milli-units, clamped to ±maxTerm.
func quantize(x float64) int64 {
	x = math.Round(x * milli)
	switch {
	case x >= maxTerm:
		return maxTerm
	case x <= -maxTerm:
		return -maxTerm
	case x != x: // NaN cannot arise from sanitized weights; belt and braces
		return 0
	}
	return int64(x)
}

// courierTerms are the per-courier raw inputs and their quantized terms; only distance and
// load vary per pair or per slot, so these are computed once per courier.
type courierTerms struct {
	capacity     int
	load         int     // active orders before this batch
	idleMin      float64 // after the cap
	creditBelow  float64
	aboveYuan    float64
	idleMilli    int64 // ≤ 0
	creditMilli  int64
	balanceMilli int64
}

// Matrix is the cost of every (order, courier) pair of a batch. It keeps one int64 per pair
// (the pair's cost without the load term, which depends on the slot; see Cost) and the
// per-courier inputs; an explanation is recomputed on demand for the pairs that won rather
// than stored for all of them (five Terms for each of 500 × 200 pairs would be 20 times the
// memory and 100,000 allocations, for explanations nobody reads).
// A Matrix is immutable after Costs and safe for concurrent reads.
type Matrix struct {
	w        Weights // sanitized
	orders   []Order
	couriers []Courier
	terms    []courierTerms
	// cost[i*len(couriers)+j] is distance + idle + credit + balance in milli-units, or
	// infeasible when the pair is too far apart, a point is invalid, the courier has no room
	// or the order excludes the courier.
	cost []int64
}

// Costs builds the cost matrix of a batch. It copies the inputs; costs follow the model in the
// package documentation. Invalid weights count as 0 (see Weights.Validate).
func Costs(orders []Order, couriers []Courier, w Weights) Matrix {
	w = w.sanitized()
	m := Matrix{
		w:        w,
		orders:   append([]Order(nil), orders...),
		couriers: append([]Courier(nil), couriers...),
		terms:    make([]courierTerms, len(couriers)),
		cost:     make([]int64, len(orders)*len(couriers)),
	}

	// The batch average is taken in float64 so that absurd earnings cannot overflow a sum.
	var avg float64
	for _, c := range couriers {
		avg += float64(c.EarnedToday)
	}
	if len(couriers) > 0 {
		avg /= float64(len(couriers))
	}
	for j, c := range couriers {
		t := &m.terms[j]
		t.load = max(c.Load, 0)
		t.capacity = max(c.MaxLoad-t.load, 0)
		t.idleMin = float64(max(c.IdleSeconds, 0)) / 60
		if w.MaxIdleMinutes > 0 {
			t.idleMin = min(t.idleMin, w.MaxIdleMinutes)
		}
		t.creditBelow = float64(100 - min(max(c.Credit, 0), 100))
		t.aboveYuan = max(float64(c.EarnedToday)-avg, 0) / 100
		t.idleMilli = -quantize(w.Idle * t.idleMin)
		t.creditMilli = quantize(w.Credit * t.creditBelow)
		t.balanceMilli = quantize(w.Balance * t.aboveYuan)
	}

	// A squared-chord threshold a hair above MaxDistanceMeters' lets most infeasible pairs
	// skip Asin; the metres then decide, so Feasible agrees with the distance explained.
	limit, maxMeters := math.Inf(1), math.Inf(1)
	if d := w.MaxDistanceMeters; d > 0 && d < math.Pi*earthRadius {
		c := 2 * math.Sin(d/(2*earthRadius))
		limit, maxMeters = c*c*(1+1e-9), d
	}
	at := make([]vec, len(couriers))
	ok := make([]bool, len(couriers))
	courier := make([]int64, len(couriers)) // the terms that do not depend on the order
	for j, c := range couriers {
		at[j] = toVec(c.At)
		ok[j] = c.At.valid() && m.terms[j].capacity > 0
		t := &m.terms[j]
		courier[j] = t.idleMilli + t.creditMilli + t.balanceMilli
	}
	k := len(couriers)
	for i, o := range orders {
		row := m.cost[i*k : (i+1)*k]
		p := toVec(o.Pickup)
		pok := o.Pickup.valid()
		for j := range row {
			c2 := chord2(p, at[j])
			if !pok || !ok[j] || !(c2 <= limit) {
				row[j] = infeasible
				continue
			}
			d := arc(c2)
			if d > maxMeters {
				row[j] = infeasible
				continue
			}
			row[j] = m.distanceMilli(d) + courier[j]
		}
	}
	m.exclude(orders)
	return m
}

// exclude makes every pair an order excludes infeasible. Exclusions are few (the couriers who
// declined this order), so the courier index is built only when some order has one.
func (m *Matrix) exclude(orders []Order) {
	var byID map[string][]int
	k := len(m.couriers)
	for i, o := range orders {
		if len(o.Excluded) == 0 {
			continue
		}
		if byID == nil {
			byID = make(map[string][]int, k)
			for j, c := range m.couriers {
				byID[c.ID] = append(byID[c.ID], j)
			}
		}
		for _, id := range o.Excluded {
			for _, j := range byID[id] {
				m.cost[i*k+j] = infeasible
			}
		}
	}
}

// distanceMilli is the distance term for a pair meters apart: DistancePerKm per km, which is
// DistancePerKm milli-units per metre.
func (m *Matrix) distanceMilli(meters float64) int64 {
	return quantize(m.w.DistancePerKm * meters / milli)
}

// Orders is the number of orders in the batch.
func (m *Matrix) Orders() int { return len(m.orders) }

// Couriers is the number of couriers in the batch.
func (m *Matrix) Couriers() int { return len(m.couriers) }

// Capacity is how many orders courier j may take in this batch: MaxLoad − Load, at least 0.
func (m *Matrix) Capacity(j int) int { return m.terms[j].capacity }

// Feasible reports whether order i may go to courier j at all: both points valid, within
// MaxDistanceMeters, the courier has capacity and the order does not exclude the courier.
func (m *Matrix) Feasible(i, j int) bool { return m.cost[i*len(m.couriers)+j] != infeasible }

// slotMilli is the load term of courier j's slot-th order in this batch (0-based): the
// courier then carries load+slot orders. It grows with slot, which is what lets the solver
// treat a courier's slots as a convex cost and hand them out cheapest first.
func (m *Matrix) slotMilli(j, slot int) int64 {
	return quantize(m.w.Load * float64(m.terms[j].load+slot))
}

// costMilli is the cost of order i as courier j's slot-th order, in milli-units; the caller
// checks feasibility.
func (m *Matrix) costMilli(i, j, slot int) int64 {
	return m.cost[i*len(m.couriers)+j] + m.slotMilli(j, slot)
}

// Cost is the cost of giving order i to courier j as the courier's slot-th order of this
// batch (0-based), in cost units; +Inf when the pair is infeasible.
func (m *Matrix) Cost(i, j, slot int) float64 {
	if !m.Feasible(i, j) {
		return math.Inf(1)
	}
	return float64(m.costMilli(i, j, slot)) / milli
}

// Explain is the breakdown of Cost(i, j, slot): the five terms in a fixed order, whose values
// sum to the cost. It is nil for an infeasible pair.
func (m *Matrix) Explain(i, j, slot int) []Term {
	if !m.Feasible(i, j) {
		return nil
	}
	t := &m.terms[j]
	d := distance(m.orders[i].Pickup, m.couriers[j].At)
	return []Term{
		{Name: TermDistance, Value: float64(m.distanceMilli(d)) / milli, Input: math.Round(d)},
		{Name: TermIdle, Value: float64(t.idleMilli) / milli, Input: t.idleMin},
		{Name: TermLoad, Value: float64(m.slotMilli(j, slot)) / milli, Input: float64(t.load + slot)},
		{Name: TermCredit, Value: float64(t.creditMilli) / milli, Input: t.creditBelow},
		{Name: TermBalance, Value: float64(t.balanceMilli) / milli, Input: t.aboveYuan},
	}
}

// result assembles a Result from an assignment (courier index per order, −1 for none). A
// courier's orders take its slots in input order, so explanations do not depend on the order
// in which the algorithm happened to find them.
func (m *Matrix) result(assign []int32) Result {
	var r Result
	slot := make([]int, len(m.couriers))
	var total int64
	for i, j := range assign {
		if j < 0 {
			r.Unassigned = append(r.Unassigned, m.orders[i].ID)
			continue
		}
		c := m.costMilli(i, int(j), slot[j])
		total += c
		r.Pairs = append(r.Pairs, Pair{
			OrderID:     m.orders[i].ID,
			CourierID:   m.couriers[j].ID,
			Cost:        float64(c) / milli,
			Explanation: m.Explain(i, int(j), slot[j]),
		})
		slot[j]++
	}
	r.TotalCost = float64(total) / milli
	return r
}
