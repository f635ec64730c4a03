package solver

// Greedy is the baseline Assign is measured against, and what a dispatcher without a solver
// does: each order in input order takes the nearest feasible courier that still has capacity
// (lowest index on ties), whatever the other terms say. Costs are reported with the same
// model as Assign's so the two totals compare.
func Greedy(orders []Order, couriers []Courier, w Weights) Result {
	m := Costs(orders, couriers, w)
	return m.Greedy()
}

// Greedy runs the baseline on the batch the matrix was built for.
func (m *Matrix) Greedy() Result {
	k := len(m.couriers)
	at := make([]vec, k)
	for j, c := range m.couriers {
		at[j] = toVec(c.At)
	}
	used := make([]int, k)
	assign := make([]int32, len(m.orders))
	for i, o := range m.orders {
		assign[i] = -1
		p := toVec(o.Pickup)
		var best float64
		for j := range k {
			if !m.Feasible(i, j) || used[j] >= m.terms[j].capacity {
				continue
			}
			// The squared chord grows with the distance, so it ranks couriers as well.
			if d := chord2(p, at[j]); assign[i] < 0 || d < best {
				assign[i], best = int32(j), d
			}
		}
		if assign[i] >= 0 {
			used[assign[i]]++
		}
	}
	return m.result(assign)
}
