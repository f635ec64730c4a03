package pricing

import (
	"fmt"
	"math"
	"time"

	"github.com/paotui/paotui/internal/blueprint"
)

const (
	// MaxMinutes caps Input.Minutes: ten hours of queueing is already a whole day's work.
	MaxMinutes = 600
	// MaxTip caps Input.Tip at ¥200 so a typo cannot turn a ¥5 errand into a ¥5,000 one.
	MaxTip Money = 20_000
)

// Line codes. A surcharge line's code is SurchargePrefix + Surcharge.Code.
const (
	LineBase        = "base"
	LineDistance    = "distance"
	LineSize        = "size"
	LineTime        = "time"
	SurchargePrefix = "surcharge:"
	LineMinimum     = "minimum"
	LineTip         = "tip"
	LineCoupon      = "coupon"
)

var labels = map[string]blueprint.Text{
	LineBase:     {ZH: "基础费", EN: "Base fee"},
	LineDistance: {ZH: "距离费", EN: "Distance fee"},
	LineSize:     {ZH: "重量/体积费", EN: "Size fee"},
	LineTime:     {ZH: "计时费", EN: "Time fee"},
	LineMinimum:  {ZH: "起步价补足", EN: "Minimum fee top-up"},
	LineTip:      {ZH: "小费", EN: "Tip"},
	LineCoupon:   {ZH: "优惠券", EN: "Coupon"},
}

// Input is what the student asks for. Everything but At is bound into the quote token.
type Input struct {
	// TaskType is the key the caller used to pick the Rule; Quote does not interpret it, but
	// the token binds it so a quote for one type cannot pay for another.
	TaskType string `json:"taskType"`
	Pickup   Point  `json:"pickup"`
	Dropoff  Point  `json:"dropoff"`
	// Size is a key of Rule.SizeFees. "" means "no size class" and costs 0; it is accepted
	// only when the rule has no size fees or prices some class at 0 (the blueprints' "small"),
	// so a tenant that charges for every class cannot be undercut by omitting the size.
	Size string `json:"size,omitempty"`
	// Minutes is the expected duration for per-minute task types (queueing), 0..MaxMinutes.
	Minutes int `json:"minutes,omitempty"`
	// Tip goes wholly to the courier, 0..MaxTip.
	Tip Money `json:"tip,omitempty"`
	// Coupon is the discount the marketing layer granted, 0..MaxAmount; it is applied last
	// and never makes the service part negative.
	Coupon Money `json:"coupon,omitempty"`
	// At is when the order is placed; surcharges are read on the tenant's wall clock.
	At time.Time `json:"at"`
}

// Line is one row of the breakdown the student sees.
type Line struct {
	Code   string         `json:"code"`
	Label  blueprint.Text `json:"label"`
	Amount Money          `json:"amount"`
}

// Breakdown is a quote: its lines add up to Total exactly.
type Breakdown struct {
	Lines []Line `json:"lines"`
	Total Money  `json:"total"`
	// DistanceMeters is the billable distance: great-circle × detour, whole metres.
	DistanceMeters int64 `json:"distanceMeters"`
}

// Quote prices in under rule r and the tenant's surcharges s, reading At in loc. See the
// package comment for the formula. It validates the rule too (ErrBadRule), because the
// admin's live preview quotes rules that are not saved yet. Input errors are ErrBadPoint,
// ErrUnknownSize, ErrBadMinutes, ErrBadTip, ErrBadCoupon and ErrBadTime, wrapped.
// Quote is deterministic and safe for concurrent use.
func Quote(r Rule, s []Surcharge, in Input, loc *time.Location) (Breakdown, error) {
	if err := r.validate(); err != nil {
		return Breakdown{}, err
	}
	if err := validateSurcharges(s); err != nil {
		return Breakdown{}, err
	}
	if loc == nil {
		return Breakdown{}, fmt.Errorf("%w: the tenant's location is required", ErrBadRule)
	}
	if err := in.Pickup.Validate(); err != nil {
		return Breakdown{}, fmt.Errorf("pickup: %w", err)
	}
	if err := in.Dropoff.Validate(); err != nil {
		return Breakdown{}, fmt.Errorf("dropoff: %w", err)
	}
	sizeFee, err := r.sizeFee(in.Size)
	if err != nil {
		return Breakdown{}, err
	}
	if in.Minutes < 0 || in.Minutes > MaxMinutes {
		return Breakdown{}, fmt.Errorf("%w: must be 0..%d, got %d", ErrBadMinutes, MaxMinutes, in.Minutes)
	}
	if in.Tip < 0 || in.Tip > MaxTip {
		return Breakdown{}, fmt.Errorf("%w: must be %v..%v, got %v", ErrBadTip, Money(0), MaxTip, in.Tip)
	}
	if in.Coupon < 0 || in.Coupon > MaxAmount {
		return Breakdown{}, fmt.Errorf("%w: must be %v..%v, got %v", ErrBadCoupon, Money(0), MaxAmount, in.Coupon)
	}
	if in.At.IsZero() {
		return Breakdown{}, ErrBadTime
	}

	b := Breakdown{Lines: make([]Line, 0, 7+len(s))}
	b.DistanceMeters = int64(math.Round(Distance(in.Pickup, in.Dropoff) * r.detour()))

	b.add(LineBase, labels[LineBase], r.BaseFee)
	b.addNonZero(LineDistance, distanceFee(b.DistanceMeters, r.IncludedMeters, r.PerKmFee))
	b.addNonZero(LineSize, sizeFee)
	b.addNonZero(LineTime, Money(in.Minutes)*r.PerMinuteFee)
	local := in.At.In(loc)
	minute := local.Hour()*60 + local.Minute()
	for _, x := range s {
		if x.contains(minute) {
			b.add(SurchargePrefix+x.Code, surchargeLabel(x.Name), x.Fee)
		}
	}
	service := b.Total
	if service < r.MinFee {
		b.add(LineMinimum, labels[LineMinimum], r.MinFee-service)
		service = r.MinFee
	}
	b.addNonZero(LineTip, in.Tip)
	b.addNonZero(LineCoupon, -min(in.Coupon, service))
	return b, nil
}

// distanceFee charges PerKmFee/10 per started 100 m beyond the included distance, rounding
// half up once on the whole amount so no fraction of a 分 is lost or gained per step.
func distanceFee(billable, included int64, perKm Money) Money {
	extra := billable - included
	if extra <= 0 {
		return 0
	}
	steps := (extra + 99) / 100
	return (Money(steps)*perKm + 5) / 10
}

func (r Rule) sizeFee(size string) (Money, error) {
	if size == "" {
		if len(r.SizeFees) == 0 {
			return 0, nil
		}
		for _, fee := range r.SizeFees {
			if fee == 0 {
				return 0, nil
			}
		}
		return 0, fmt.Errorf("%w: this task type needs a size class", ErrUnknownSize)
	}
	fee, ok := r.SizeFees[size]
	if !ok {
		return 0, fmt.Errorf("%w: %q", ErrUnknownSize, size)
	}
	return fee, nil
}

// surchargeLabel fills a missing language from a generic label: blueprints do not require
// surcharge names, and the student must never see a blank line.
func surchargeLabel(name blueprint.Text) blueprint.Text {
	if name.ZH == "" {
		name.ZH = "附加费"
	}
	if name.EN == "" {
		name.EN = "Surcharge"
	}
	return name
}

// add appends a line and keeps Total the exact sum of the lines.
func (b *Breakdown) add(code string, label blueprint.Text, amount Money) {
	b.Lines = append(b.Lines, Line{Code: code, Label: label, Amount: amount})
	b.Total += amount
}

func (b *Breakdown) addNonZero(code string, amount Money) {
	if amount != 0 {
		b.add(code, labels[code], amount)
	}
}
