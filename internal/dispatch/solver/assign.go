package solver

import "math"

// Assign solves a batch optimally: it assigns as many orders as possible and, among all
// assignments of that many orders, one of least total cost (see the package documentation
// for the exact objective and the algorithm). It is deterministic.
func Assign(orders []Order, couriers []Courier, w Weights) Result {
	m := Costs(orders, couriers, w)
	return m.Assign()
}

// Assign solves the batch the matrix was built for; see the package function Assign.
func (m *Matrix) Assign() Result {
	assign := m.flow()
	for i, j := range assign {
		if int(j) == len(m.couriers) {
			assign[i] = -1 // the "nobody" column
		}
	}
	return m.result(assign)
}

// nobodyCost is the cost of leaving an order unassigned, in milli-units: more than any
// assignment of one more order could ever save, so that minimising the total cost first
// maximises the number of orders assigned. Exchanging k real pairs for k+1 changes the real
// cost by at most hi + k·(hi − lo), where [lo, hi] bounds the cost of one pair in any slot.
// With terms clamped to maxTerm this is below 5·10⁹·(n+1).
func (m *Matrix) nobodyCost() int64 {
	n, k := len(m.orders), len(m.couriers)
	lo, hi := int64(math.MaxInt64), int64(math.MinInt64)
	for j := range k {
		maxSlot := m.slotMilli(j, max(min(m.terms[j].capacity, n)-1, 0))
		for i := range n {
			if c := m.cost[i*k+j]; c != infeasible {
				lo, hi = min(lo, c), max(hi, c+maxSlot)
			}
		}
	}
	if lo > hi {
		return 1 // no feasible pair: any positive cost will do
	}
	return max(hi, 0) + int64(n)*(hi-lo) + 1
}

// block is the width of the groups whose minimum key flow keeps, so that picking the next
// column to settle scans k/block minima and one group instead of all k keys.
const block = 16

// flow solves the transportation problem "orders → couriers with capacity, or → nobody at
// nobodyCost" by successive shortest paths, one order at a time in input order (the
// row-by-row scheme of the Hungarian and Jonker–Volgenant algorithms). It returns each
// order's column: a courier index, or len(couriers) for nobody.
//
// Flow runs source → order → courier → sink. Courier j reaches the sink through its next
// unused slot at slotMilli(j, used[j]); slot costs never decrease, so slots are used in order
// and a used slot is never worth giving back. Nobody is column k, with unlimited slots at 0.
// Dijkstra runs over the k+1 columns only: the new order is the source, and an order already
// placed has a single edge in (from its column), so its potential cancels on every path
// through it and column j → order i → column j' is one edge of reduced cost
// cost(i, j') − cost(i, j) + pot[j] − pot[j'], which the potentials keep ≥ 0.
//
// Each order costs O(k) to seed, O(k/block + block) per column settled and O(k) for every
// order on a settled column. A new order settles only the columns cheaper, in reduced cost,
// than its cheapest augmenting path — a few dozen at 500 × 200 — so a batch is O(n·k·s) for
// s orders relaxed per new order, with a worst case of O(n·k·(n + k)).
func (m *Matrix) flow() []int32 {
	n, k := len(m.orders), len(m.couriers)
	nobody := k
	cols := k + 1
	mNobody := m.nobodyCost()
	// inf is an open column's key before it is reached. Once settled, a column's key
	// becomes settledKey, above every open key so the selection skips it, and its q entry
	// becomes closed, which lifts every relaxation into it above settledKey; infeasible
	// pairs (2⁶¹) land there too. With real values below 2⁵⁸ in magnitude:
	// open keys ≤ 2⁶⁰ < settledKey < 2⁶¹ − 2⁵⁹ ≤ such relaxations < 2⁶³.
	const inf, settledKey, closed = 1 << 60, 1<<60 + 1<<58, -(1 << 61)

	assign := make([]int32, n)
	members := make([][]int32, cols) // orders on each column
	used := make([]int, k)
	slot := make([]int64, k) // cost of each courier's next slot
	for j := range slot {
		slot[j] = m.slotMilli(j, 0)
	}
	pot := make([]int64, cols) // column potentials; the sink's is potT
	var potT int64             // slot costs are ≥ 0, so all-zero potentials start feasible
	q := make([]int64, cols)   // pot[j] while j is open, closed once settled
	key := make([]int64, cols) // tentative distance; settledKey once settled
	bmin := make([]int64, (cols+block-1)/block)
	prev := make([]int32, cols) // order through which the column was reached
	dist := make([]int64, cols) // distance of settled columns
	done := make([]bool, cols)  // settled
	toT := make([]int64, cols)  // reduced cost of the column's next slot, inf when full
	blockMin := func(b int) {
		v := int64(settledKey)
		for _, x := range key[b*block : min((b+1)*block, cols)] {
			v = min(v, x)
		}
		bmin[b] = v
	}

	for i0 := range n {
		// The source's edges may be negative (idle bonuses, potentials): only the source's,
		// which shifts every distance equally and leaves Dijkstra correct.
		row := m.cost[i0*k : (i0+1)*k]
		for j := range cols {
			done[j], prev[j], key[j], toT[j], q[j] = false, int32(i0), inf, inf, pot[j]
			switch {
			case j == nobody:
				key[j], toT[j] = mNobody-pot[j], pot[j]-potT
			case row[j] != infeasible:
				key[j] = row[j] - pot[j]
			}
			if j < k && used[j] < m.terms[j].capacity {
				toT[j] = slot[j] + pot[j] - potT
			}
		}
		// The sink is relaxed eagerly from tentative keys: each such value is the length of
		// a real path, so stopping once it is ≤ every open key stays exact and spares
		// settling columns that cannot lie on a shorter path.
		keyT, prevT := int64(inf), -1
		for j := range cols {
			if key[j] < inf && toT[j] < inf && key[j]+toT[j] < keyT {
				keyT, prevT = key[j]+toT[j], j
			}
		}
		for b := range bmin {
			blockMin(b)
		}

		for {
			bb, bk := -1, int64(inf)
			for b, v := range bmin {
				if v < bk {
					bb, bk = b, v
				}
			}
			if bb < 0 || keyT <= bk {
				break // the sink is settled, or nothing else is reachable
			}
			bj := bb * block
			for key[bj] != bk {
				bj++
			}
			done[bj], dist[bj], key[bj], q[bj] = true, bk, settledKey, closed
			blockMin(bb)
			for _, i := range members[bj] {
				r := m.cost[int(i)*k : int(i+1)*k]
				ci := mNobody
				if bj != nobody {
					ci = r[bj]
				}
				off := bk + pot[bj] - ci
				// The hot loop. A column reached at or beyond the sink's key can neither be
				// settled before the sink nor shorten the way to it, so such relaxations,
				// nearly all of them, are dropped after one compare; infeasible pairs and
				// settled columns always are (see inf above).
				qr, kr := q[:len(r)], key[:len(r)]
				for j, c := range r {
					if d := off + c - qr[j]; d < keyT && d < kr[j] {
						kr[j], prev[j] = d, i
						bmin[j/block] = min(bmin[j/block], d)
						if t := toT[j]; t < inf && d+t < keyT {
							keyT, prevT = d+t, j
						}
					}
				}
				if d := off + mNobody - q[nobody]; d < keyT && d < key[nobody] {
					key[nobody], prev[nobody] = d, i
					bmin[nobody/block] = min(bmin[nobody/block], d)
					if d+toT[nobody] < keyT {
						keyT, prevT = d+toT[nobody], nobody
					}
				}
			}
		}

		// Settled columns move by their distance, all others by the sink's, which keeps
		// every residual reduced cost ≥ 0 for the next order.
		for j := range cols {
			if done[j] {
				pot[j] += dist[j]
			} else {
				pot[j] += keyT
			}
		}
		potT += keyT

		// Augment from the sink back to i0: each order on the path moves to the column
		// after it; the last column gains an order.
		j := prevT
		if j != nobody {
			used[j]++
			slot[j] = m.slotMilli(j, used[j])
		}
		for {
			i := prev[j]
			old := assign[i]
			assign[i] = int32(j)
			members[j] = append(members[j], i)
			if int(i) == i0 {
				break
			}
			mo := members[old]
			for x, y := range mo {
				if y == i {
					members[old] = append(mo[:x], mo[x+1:]...)
					break
				}
			}
			j = int(old)
		}
	}
	return assign
}
