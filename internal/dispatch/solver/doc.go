// Package solver owns automatic dispatch's decision: given one tenant's batch of waiting
// orders and online couriers, which courier takes which order, and why. It is pure (no
// database, clock or HTTP), so the dispatch job can run it per tenant per tick and tests can
// check it against brute force.
//
// # The cost model
//
// Every feasible pair (order, courier) costs the sum of five terms, in cost units. With
// DefaultWeights one unit is one kilometre of travel to the pickup, so every weight reads as
// "worth that many kilometres". Each term is rounded to 1/1000 of a unit before adding, so
// the optimisation is exact integer arithmetic and an explanation's terms add up to its cost
// to the thousandth.
//
//	distance = DistancePerKm × km from the courier to the pickup (great circle, haversine,
//	           R = 6,371,008.8 m, the distance pricing quotes with)
//	idle     = −Idle × min(IdleSeconds / 60, MaxIdleMinutes)      a bonus: idle couriers first
//	load     = Load × (Load + s)   s = orders the courier already got in this batch, 0, 1, …
//	credit   = Credit × (100 − Credit score clamped to 0..100)
//	balance  = Balance × max(0, EarnedToday − mean EarnedToday of the batch's couriers) / 100
//	           i.e. per ¥ earned today above the batch average
//
// A pair is infeasible when it is more than MaxDistanceMeters apart (≤ 0 means no limit),
// when either position is invalid (NaN, out of range), when the courier has no room, or when
// the order excludes the courier (Order.Excluded: they declined it before). A courier takes
// at most MaxLoad − Load orders per batch. The load term makes a courier's second order in
// the batch dearer than its first. Because that cost rises with every order,
// a courier's total is the same whichever of its orders counts first; explanations count
// them in input order. Invalid weights count as 0 (Weights.Validate reports them at load
// time), and every term is clamped to ±10⁶ units, so no input can overflow the solver.
//
// Worked example (defaults): a courier 1,234 m away, idle 10 min, carrying 1 order, credit 80,
// ¥10 above the batch average costs 1.234 − 0.2 + 0.3 + 0.2 + 0.25 = 1.784. If the same
// courier also takes an order 234 m away in this batch, that order's load term is 0.6.
//
// # The objective
//
// Assign returns, among all assignments that use only feasible pairs and respect every
// courier's room:
//
//  1. one that assigns the most orders, and among those
//  2. one of least total cost, the sum of its pairs' costs.
//
// Ties are broken by input order. Orders are placed one at a time in input order. An order
// already placed moves only if that makes the total strictly cheaper. Among equally cheap
// couriers the earlier one wins. The same input always gives the same result.
//
// # The algorithm
//
// Assign solves a transportation problem: orders on one side; on the other, couriers with
// room plus a "nobody" column that takes any order at a cost M. M is larger than any saving
// from assigning fewer orders: M = max(hi, 0) + n·(hi − lo) + 1 for pair costs in [lo, hi].
// So minimising the total cost first maximises the number of orders assigned, and the orders
// left on "nobody" are Unassigned.
//
// The solver uses successive shortest paths with potentials, adding one order at a time. This
// is the scheme of the Hungarian and Jonker–Volgenant algorithms, generalised to courier
// capacities. Each addition runs one Dijkstra over the k+1 columns on reduced costs.
// Capacity is a chain of slot edges from each courier to the sink. The slot costs (the load
// term) only rise, so the courier matrix never needs expanding into slots.
//
// Three things keep the search short, and none of them changes the answer:
//   - the sink is relaxed eagerly from tentative keys;
//   - a relaxation that cannot beat the sink's current key is dropped after one compare;
//   - the next column comes from per-16-column minima.
//
// The matrix is dense and nothing is pruned. A k-nearest candidate list was tried and
// dropped. Under a shortage it loses orders, because the courier an unserved order needs is
// the one far away with a free slot. Checking its duals against the full matrix rejected it
// on most batches.
//
// Costs is O(n·k) time and 8·n·k bytes: one int64 per pair. Explanations are recomputed only
// for the chosen pairs. Assign's worst case is O(n·k·(n + k)). In practice each new order
// settles only the columns that are cheaper, in reduced cost, than its best augmenting path,
// a few dozen at 500 × 200. BenchmarkAssign500x200 (500 orders, 200 couriers with room for
// 1–3, 3 km square, default weights, Costs included, one core of a 2-core AMD EPYC) measured
// p50 11.3–11.8 ms and p95 14–17 ms over five runs, against the 20 ms target. Greedy took
// 1.2–1.4 ms on the same instances, and Assign's total cost was 0.85× greedy's on average
// (0.90× at worst) with the same number of orders assigned.
//
// # Why the balancing term
//
// Nearest-first dispatch is efficient and unfair. Couriers who wait beside the canteens get
// most of the work, and the ones across campus learn to stop logging in. The idle term evens
// things out over minutes; the balance term evens them out over the day. It is relative to
// the batch average, so only couriers ahead of their peers pay, and only as much as the
// weight says. When everyone is busy, nobody is penalised.
//
// BenchmarkBalancingGini simulates days of 40 batches × 20 orders over 15 couriers, a third
// of them based at the hotspots. It measured the Gini coefficient of final earnings at 0.17
// without the term and 0.075 with the default Balance of 0.025/¥, for 9.6% more pickup
// distance. A Balance of 0.01 gives 0.12 for about 3%. Tenants choose the trade-off; admins
// see it in the explanations.
//
// # Explanations
//
// Every Pair carries its five terms, in a fixed order, with the weighted value and the raw
// input (metres, idle minutes, orders, credit points, ¥). The terms sum to the pair's cost.
// Dispatch stores them with the assignment so an admin can see why this courier was chosen.
// Term names are persisted, so they never change.
package solver
