package solver

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// BenchmarkAssign500x200 solves 30 generated campus batches (500 orders, 200 couriers with
// room for 1–3 orders each, 3 km × 3 km, default weights) per iteration and reports the
// latency percentiles of one batch, Costs included, with Greedy's as the baseline of the same
// run, plus Assign's total cost over Greedy's (≤ 1 on every instance where both assign as
// many orders) and the orders each assigns.
func BenchmarkAssign500x200(b *testing.B) {
	const instances = 30
	rng := rand.New(rand.NewPCG(500, 200))
	type batch struct {
		orders   []Order
		couriers []Courier
	}
	batches := make([]batch, instances)
	for x := range batches {
		o, c := gen{orders: 500, couriers: 200, side: 3000, capMin: 1, capMax: 3}.instance(rng)
		batches[x] = batch{o, c}
	}
	w := DefaultWeights()

	var costRatioMax, costRatioSum float64
	var assigned, greedyAssigned, comparable int
	for _, bt := range batches {
		a, g := Assign(bt.orders, bt.couriers, w), Greedy(bt.orders, bt.couriers, w)
		assigned += len(a.Pairs)
		greedyAssigned += len(g.Pairs)
		if len(a.Pairs) < len(g.Pairs) || (len(a.Pairs) == len(g.Pairs) && a.TotalCost > g.TotalCost) {
			b.Fatalf("assign (%d at %v) worse than greedy (%d at %v)", len(a.Pairs), a.TotalCost, len(g.Pairs), g.TotalCost)
		}
		if len(a.Pairs) == len(g.Pairs) && g.TotalCost > 0 {
			r := a.TotalCost / g.TotalCost
			costRatioMax = max(costRatioMax, r)
			costRatioSum += r
			comparable++
		}
	}

	var times, greedyTimes []time.Duration
	for b.Loop() {
		for _, bt := range batches {
			t0 := time.Now()
			Assign(bt.orders, bt.couriers, w)
			t1 := time.Now()
			Greedy(bt.orders, bt.couriers, w)
			times = append(times, t1.Sub(t0))
			greedyTimes = append(greedyTimes, time.Since(t1))
		}
	}
	b.ReportMetric(percentile(times, 50), "p50-ms")
	b.ReportMetric(percentile(times, 95), "p95-ms")
	b.ReportMetric(percentile(greedyTimes, 50), "greedy-p50-ms")
	b.ReportMetric(percentile(greedyTimes, 95), "greedy-p95-ms")
	if comparable > 0 {
		b.ReportMetric(costRatioMax, "cost/greedy-max")
		b.ReportMetric(costRatioSum/float64(comparable), "cost/greedy-mean")
	}
	b.ReportMetric(float64(assigned)/instances, "assigned/batch")
	b.ReportMetric(float64(greedyAssigned)/instances, "greedy-assigned/batch")
}

// percentile is the p-th percentile of ds in milliseconds (nearest rank).
func percentile(ds []time.Duration, p int) float64 {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := (len(s)*p+99)/100 - 1
	return float64(s[max(i, 0)]) / float64(time.Millisecond)
}

// BenchmarkBalancingGini simulates days of 40 batches of 20 orders over 15 couriers with the
// default weights and again without the balancing term, and reports the Gini coefficient of
// the couriers' final earnings for both (balancing should lower it) and how much more pickup
// distance balancing costs (distance-ratio, with over without).
func BenchmarkBalancingGini(b *testing.B) {
	var without, with, ratio float64
	for b.Loop() {
		without, with, ratio = balancing(10)
	}
	b.ReportMetric(without, "gini-nobalance")
	b.ReportMetric(with, "gini-balance")
	b.ReportMetric(with/without, "gini-ratio")
	b.ReportMetric(ratio, "distance-ratio")
}
