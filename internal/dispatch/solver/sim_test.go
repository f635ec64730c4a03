package solver

import (
	"fmt"
	"math"
	"math/rand/v2"
)

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
