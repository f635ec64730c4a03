package solver

import (
	"errors"
	"fmt"
	"math"
)

// Point is a WGS-84 position in degrees, longitude first, the same shape as pricing.Point so
// callers convert with a plain struct conversion.
type Point struct {
	Lng float64 `json:"lng"`
	Lat float64 `json:"lat"`
}

// valid reports whether p is finite and within lng [-180, 180], lat [-90, 90]; pairs touching
// an invalid point are infeasible rather than an error, so one bad GPS fix cannot fail a batch.
func (p Point) valid() bool {
	// Negated ranges so NaN, which fails every comparison, is rejected too.
	return p.Lng >= -180 && p.Lng <= 180 && p.Lat >= -90 && p.Lat <= 90
}

// Order is an order waiting in this batch.
type Order struct {
	ID     string
	Pickup Point
	// Reward is the courier's share in 分. It is not a cost term (the solver never prefers
	// lucrative orders); it rides along so callers can add it to the winner's EarnedToday.
	Reward int64
	// Excluded are ids of couriers who may not take this order: dispatch lists those who
	// declined it or let an offer for it expire, so it never offers it to them again. Ids of
	// couriers not in the batch are ignored.
	Excluded []string
}

// Courier is an online courier as the batch sees them.
type Courier struct {
	ID          string
	At          Point
	IdleSeconds int64 // since the courier last finished or accepted an order
	Load        int   // orders the courier is carrying now
	MaxLoad     int   // the courier may take MaxLoad − Load orders in this batch
	Credit      int   // credit score, 0..100 (clamped)
	EarnedToday int64 // 分 earned so far today
}

// Weights are a tenant's dispatch weights. Every cost is in "cost units"; with the defaults one
// unit is one kilometre of travel to the pickup, so every other weight reads as "this is worth
// that many kilometres". All weights must be finite and ≥ 0 (see Validate).
type Weights struct {
	DistancePerKm float64 `json:"distancePerKm"` // per km from the courier to the pickup
	Idle          float64 `json:"idle"`          // per idle minute, subtracted: idle first
	Load          float64 `json:"load"`          // per active order, this batch's included
	Credit        float64 `json:"credit"`        // per credit point below 100
	Balance       float64 `json:"balance"`       // per ¥ earned today above the batch average
	// MaxIdleMinutes caps the idle bonus. Without a cap a courier who forgot to go offline
	// for the afternoon would outbid every nearby courier for orders across campus. ≤ 0: no cap.
	MaxIdleMinutes float64 `json:"maxIdleMinutes"`
	// MaxDistanceMeters makes pairs farther apart than this infeasible. ≤ 0 or +Inf: no limit.
	MaxDistanceMeters float64 `json:"maxDistanceMeters"`
}

// DefaultWeights are the weights a tenant starts with: distance dominates; ten idle minutes
// are worth 200 m, an order already carried 300 m, twenty credit points 200 m, and ¥20 of
// today's earnings above the batch average 500 m.
func DefaultWeights() Weights {
	return Weights{
		DistancePerKm:     1,
		Idle:              0.02,
		Load:              0.3,
		Credit:            0.01,
		Balance:           0.025,
		MaxIdleMinutes:    30,
		MaxDistanceMeters: 3000,
	}
}

// ErrBadWeights is returned by Validate for a weight that is negative, NaN or infinite.
var ErrBadWeights = errors.New("invalid dispatch weights")

// Validate returns ErrBadWeights unless every weight is finite and ≥ 0 (MaxDistanceMeters may
// be +Inf). Configuration should call it at load time; Costs and Assign do not fail on bad
// weights but treat each invalid one as 0, because a dispatch batch must always produce an answer.
func (w Weights) Validate() error {
	named := []struct {
		name string
		v    float64
	}{
		{"distancePerKm", w.DistancePerKm}, {"idle", w.Idle}, {"load", w.Load},
		{"credit", w.Credit}, {"balance", w.Balance}, {"maxIdleMinutes", w.MaxIdleMinutes},
	}
	for _, n := range named {
		if !(n.v >= 0) || math.IsInf(n.v, 0) {
			return fmt.Errorf("%w: %s = %v", ErrBadWeights, n.name, n.v)
		}
	}
	if !(w.MaxDistanceMeters >= 0) {
		return fmt.Errorf("%w: maxDistanceMeters = %v", ErrBadWeights, w.MaxDistanceMeters)
	}
	return nil
}

// sanitized replaces every invalid weight by 0 (see Validate).
func (w Weights) sanitized() Weights {
	fix := func(v float64) float64 {
		if !(v >= 0) || math.IsInf(v, 0) {
			return 0
		}
		return v
	}
	return Weights{
		DistancePerKm:     fix(w.DistancePerKm),
		Idle:              fix(w.Idle),
		Load:              fix(w.Load),
		Credit:            fix(w.Credit),
		Balance:           fix(w.Balance),
		MaxIdleMinutes:    fix(w.MaxIdleMinutes),
		MaxDistanceMeters: fix(w.MaxDistanceMeters), // 0 and NaN both mean "no limit"
	}
}

// Term is one line of an assignment's explanation. Names are stored with every automatic
// assignment and shown to admins, so they never change once shipped.
type Term struct {
	Name string `json:"name"` // one of the Term* constants
	// Value is the term's contribution to the pair's cost, in cost units (negative for idle).
	Value float64 `json:"value"`
	// Input is the raw quantity the weight multiplied, in the unit the name implies:
	// distance metres, idle minutes (after the cap), load orders, credit points below 100,
	// balance ¥ above the batch average.
	Input float64 `json:"input"`
}

// Term names, in the order an explanation lists them.
const (
	TermDistance = "distance"
	TermIdle     = "idle"
	TermLoad     = "load"
	TermCredit   = "credit"
	TermBalance  = "balance"
)

// Pair is one automatic assignment and why it was made.
type Pair struct {
	OrderID   string `json:"orderId"`
	CourierID string `json:"courierId"`
	// Cost is the pair's cost in cost units; it equals the sum of Explanation's values.
	Cost        float64 `json:"cost"`
	Explanation []Term  `json:"explanation"`
}

// Result is a batch's assignment.
type Result struct {
	Pairs      []Pair   // in the input order of the orders
	Unassigned []string // order ids no courier could take, in input order
	TotalCost  float64  // sum of the pairs' costs
}
