package settings

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"gorm.io/gorm"

	"github.com/paotui/paotui/internal/blueprint"
	"github.com/paotui/paotui/internal/dispatch/solver"
	"github.com/paotui/paotui/internal/pricing"
)

// Business is the editable rule set. Durations are Go durations ("15m", "24h").
type Business struct {
	CourierShareBP   int         `json:"courierShareBp" minimum:"0" maximum:"10000" doc:"Courier's share of the price excluding tip, in basis points (8000 = 80%)."`
	PaymentTimeout   string      `json:"paymentTimeout" doc:"Unpaid orders expire after this (1m to 24h)."`
	AutoConfirmAfter string      `json:"autoConfirmAfter" doc:"Delivered orders complete themselves after this (1h to 720h)."`
	FreeCancelUntil  string      `json:"freeCancelUntil" enum:"awaiting_courier,accepted,picked_up" doc:"Students may cancel (with a full refund) up to and including this status."`
	DetourFactor     float64     `json:"detourFactor" minimum:"1" maximum:"3" doc:"Billable distance = great-circle distance × this."`
	Surcharges       []Surcharge `json:"surcharges" maxItems:"10"`
	StripeMethods    []string    `json:"stripeMethods" maxItems:"3" doc:"Online payment methods offered: card, alipay, wechat_pay."`
	DispatchMode     string      `json:"dispatchMode" enum:"grab,dispatch,hybrid"`
	GrabWindow       string      `json:"grabWindow" doc:"Hybrid mode: time in the hall before dispatch (10s to 30m)."`
	OfferTimeout     string      `json:"offerTimeout" doc:"Dispatch: time a courier has to accept an offer (10s to 10m)."`
	// The courier gate and dispatch.
	MaxActiveOrders int            `json:"maxActiveOrders" minimum:"1" maximum:"20" doc:"Orders a courier may carry at once (accepted or picked up)."`
	MinCredit       int            `json:"minCredit" minimum:"0" maximum:"100" doc:"Couriers below this credit score cannot grab or be dispatched orders."`
	WaitingAlert    string         `json:"waitingAlert" doc:"An order still waiting for a courier this long after payment alerts the admin live feed (30s to 1h)."`
	Weights         solver.Weights `json:"dispatchWeights" doc:"Automatic dispatch cost weights; one unit is one kilometre of travel to the pickup."`
	// Live tracking and proof of delivery.
	Trails        bool `json:"trails" doc:"Keep couriers' position trails for active orders (off: positions are live only, never stored)."`
	PhotoDelivery bool `json:"photoDelivery" doc:"Couriers may confirm delivery with a photo instead of the student's code."`
}

// Surcharge is a time-of-day fee (windows may wrap midnight).
type Surcharge struct {
	Name blueprint.Text `json:"name"`
	From string         `json:"from" pattern:"^([01][0-9]|2[0-3]):[0-5][0-9]$"`
	To   string         `json:"to" pattern:"^([01][0-9]|2[0-3]):[0-5][0-9]$"`
	Fee  int64          `json:"fee" minimum:"1" maximum:"100000" doc:"分."`
}

// ErrInvalid is returned for a rule set that breaks a rule; the *FieldError says which.
var ErrInvalid = errors.New("invalid settings")

// FieldError names the field at fault.
type FieldError struct{ Field, Reason string }

func (e *FieldError) Error() string { return "invalid settings: " + e.Field + ": " + e.Reason }
func (e *FieldError) Unwrap() error { return ErrInvalid }

func bad(field, format string, args ...any) error {
	return &FieldError{Field: field, Reason: fmt.Sprintf(format, args...)}
}

// documents of the settings table this package reads and writes.
type docs struct {
	Commission struct {
		CourierShareBp *int `json:"courierShareBp"`
	}
	Orders struct {
		PaymentTimeout   string `json:"paymentTimeout"`
		AutoConfirmAfter string `json:"autoConfirmAfter"`
		FreeCancelUntil  string `json:"freeCancelUntil"`
	}
	Pricing struct {
		DetourFactor float64 `json:"detourFactor"`
	}
	Surcharges []Surcharge
	Payments   struct {
		StripeMethods []string `json:"stripe_methods"`
	}
	Dispatch struct {
		Mode            string          `json:"mode"`
		GrabWindow      string          `json:"grabWindow"`
		OfferTimeout    string          `json:"offerTimeout"`
		MaxActiveOrders int             `json:"maxActiveOrders,omitempty"`
		MinCredit       int             `json:"minCredit,omitempty"`
		WaitingAlert    string          `json:"waitingAlert,omitempty"`
		Weights         *solver.Weights `json:"weights,omitempty"`
	}
	Tracking struct {
		Trails        *bool `json:"trails"`
		PhotoDelivery *bool `json:"photoDelivery"`
	}
}

// Load reads the rule set, with the defaults for anything never set.
func Load(tx *gorm.DB) (Business, error) {
	var rows []struct {
		Key   string
		Value json.RawMessage
	}
	if err := tx.Raw(`SELECT key, value FROM settings WHERE key IN ('commission','orders','pricing','surcharges','payments','dispatch','tracking')`).
		Scan(&rows).Error; err != nil {
		return Business{}, err
	}
	var d docs
	for _, r := range rows {
		var target any
		switch r.Key {
		case "commission":
			target = &d.Commission
		case "orders":
			target = &d.Orders
		case "pricing":
			target = &d.Pricing
		case "surcharges":
			target = &d.Surcharges
		case "payments":
			target = &d.Payments
		case "dispatch":
			target = &d.Dispatch
		case "tracking":
			target = &d.Tracking
		}
		if err := json.Unmarshal(r.Value, target); err != nil {
			return Business{}, fmt.Errorf("setting %s: %w", r.Key, err)
		}
	}
	b := Business{CourierShareBP: 8000, PaymentTimeout: "15m", AutoConfirmAfter: "24h", FreeCancelUntil: "accepted",
		DetourFactor: pricing.DefaultDetour, Surcharges: d.Surcharges, StripeMethods: d.Payments.StripeMethods,
		DispatchMode: "grab", GrabWindow: "2m", OfferTimeout: "45s", MaxActiveOrders: 3, WaitingAlert: "3m",
		Weights: solver.DefaultWeights(), Trails: true, PhotoDelivery: true}
	if d.Commission.CourierShareBp != nil {
		b.CourierShareBP = *d.Commission.CourierShareBp
	}
	setDur(&b.PaymentTimeout, d.Orders.PaymentTimeout)
	setDur(&b.AutoConfirmAfter, d.Orders.AutoConfirmAfter)
	if d.Orders.FreeCancelUntil != "" {
		b.FreeCancelUntil = d.Orders.FreeCancelUntil
	}
	if d.Pricing.DetourFactor != 0 {
		b.DetourFactor = d.Pricing.DetourFactor
	}
	if d.Dispatch.Mode != "" {
		b.DispatchMode = d.Dispatch.Mode
	}
	setDur(&b.GrabWindow, d.Dispatch.GrabWindow)
	setDur(&b.OfferTimeout, d.Dispatch.OfferTimeout)
	setDur(&b.WaitingAlert, d.Dispatch.WaitingAlert)
	if d.Dispatch.MaxActiveOrders > 0 {
		b.MaxActiveOrders = d.Dispatch.MaxActiveOrders
	}
	b.MinCredit = d.Dispatch.MinCredit
	if d.Dispatch.Weights != nil {
		b.Weights = *d.Dispatch.Weights
	}
	if d.Tracking.Trails != nil {
		b.Trails = *d.Tracking.Trails
	}
	if d.Tracking.PhotoDelivery != nil {
		b.PhotoDelivery = *d.Tracking.PhotoDelivery
	}
	if b.Surcharges == nil {
		b.Surcharges = []Surcharge{}
	}
	if b.StripeMethods == nil {
		b.StripeMethods = []string{"card"}
	}
	return b, nil
}

// setDur keeps stored durations readable ("15m0s" -> "15m").
func setDur(into *string, stored string) {
	if d, err := time.ParseDuration(stored); err == nil && d > 0 {
		*into = shortDur(d)
	}
}

func shortDur(d time.Duration) string {
	s := d.String()
	for _, suffix := range []string{"m0s", "h0m"} {
		if len(s) > len(suffix) && s[len(s)-len(suffix):] == suffix {
			s = s[:len(s)-len(suffix)+1]
		}
	}
	return s
}

// Validate checks the whole rule set.
func (b Business) Validate() error {
	if b.CourierShareBP < 0 || b.CourierShareBP > 10000 {
		return bad("courierShareBp", "must be 0..10000")
	}
	for _, c := range []struct {
		field, value string
		min, max     time.Duration
	}{
		{"paymentTimeout", b.PaymentTimeout, time.Minute, 24 * time.Hour},
		{"autoConfirmAfter", b.AutoConfirmAfter, time.Hour, 720 * time.Hour},
		{"grabWindow", b.GrabWindow, 10 * time.Second, 30 * time.Minute},
		{"offerTimeout", b.OfferTimeout, 10 * time.Second, 10 * time.Minute},
		{"waitingAlert", b.WaitingAlert, 30 * time.Second, time.Hour},
	} {
		d, err := time.ParseDuration(c.value)
		if err != nil || d < c.min || d > c.max {
			return bad(c.field, "must be a duration between %s and %s, got %q", shortDur(c.min), shortDur(c.max), c.value)
		}
	}
	if !slices.Contains([]string{"awaiting_courier", "accepted", "picked_up"}, b.FreeCancelUntil) {
		return bad("freeCancelUntil", "must be awaiting_courier, accepted or picked_up")
	}
	if !slices.Contains([]string{"grab", "dispatch", "hybrid"}, b.DispatchMode) {
		return bad("dispatchMode", "must be grab, dispatch or hybrid")
	}
	if b.MaxActiveOrders < 1 || b.MaxActiveOrders > 20 {
		return bad("maxActiveOrders", "must be 1..20")
	}
	if b.MinCredit < 0 || b.MinCredit > 100 {
		return bad("minCredit", "must be 0..100")
	}
	if err := b.Weights.Validate(); err != nil {
		return bad("dispatchWeights", "%v", err)
	}
	seen := map[string]bool{}
	for i, m := range b.StripeMethods {
		if !slices.Contains([]string{"card", "alipay", "wechat_pay"}, m) || seen[m] {
			return bad(fmt.Sprintf("stripeMethods[%d]", i), "must be card, alipay or wechat_pay, each once")
		}
		seen[m] = true
	}
	sur := make([]blueprint.Surcharge, len(b.Surcharges))
	for i, s := range b.Surcharges {
		if s.Name.ZH == "" || s.Name.EN == "" {
			return bad(fmt.Sprintf("surcharges[%d].name", i), "zh and en are required")
		}
		sur[i] = blueprint.Surcharge{Name: s.Name, From: s.From, To: s.To, Fee: s.Fee}
	}
	// The pricing engine is the judge of detour factors and surcharge windows.
	if _, _, err := pricing.FromBlueprint(blueprint.Pricing{}, sur, b.DetourFactor); err != nil {
		return bad("surcharges", "%v", err)
	}
	return nil
}

// Save validates b and writes every document; it returns the keys whose value changed.
func Save(tx *gorm.DB, b Business) ([]string, error) {
	if err := b.Validate(); err != nil {
		return nil, err
	}
	var d docs
	d.Commission.CourierShareBp = &b.CourierShareBP
	d.Orders.PaymentTimeout, d.Orders.AutoConfirmAfter, d.Orders.FreeCancelUntil = b.PaymentTimeout, b.AutoConfirmAfter, b.FreeCancelUntil
	d.Pricing.DetourFactor = b.DetourFactor
	d.Surcharges = b.Surcharges
	d.Payments.StripeMethods = b.StripeMethods
	d.Dispatch.Mode, d.Dispatch.GrabWindow, d.Dispatch.OfferTimeout = b.DispatchMode, b.GrabWindow, b.OfferTimeout
	d.Dispatch.MaxActiveOrders, d.Dispatch.MinCredit, d.Dispatch.WaitingAlert = b.MaxActiveOrders, b.MinCredit, b.WaitingAlert
	d.Dispatch.Weights = &b.Weights
	d.Tracking.Trails, d.Tracking.PhotoDelivery = &b.Trails, &b.PhotoDelivery
	var changed []string
	for key, v := range map[string]any{"commission": d.Commission, "orders": d.Orders, "pricing": d.Pricing,
		"surcharges": d.Surcharges, "payments": d.Payments, "dispatch": d.Dispatch, "tracking": d.Tracking} {
		raw, err := json.Marshal(v)
		if err != nil {
			return nil, err
		}
		res := tx.Exec(`INSERT INTO settings (key, value, updated_at) VALUES (?, ?, now())
			ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = now()
			WHERE settings.value IS DISTINCT FROM excluded.value`, key, string(raw))
		if res.Error != nil {
			return nil, fmt.Errorf("setting %s: %w", key, res.Error)
		}
		if res.RowsAffected > 0 {
			changed = append(changed, key)
		}
	}
	slices.Sort(changed)
	return changed, nil
}

// Location is the tenant's time zone (settings document "timezone"; Asia/Shanghai when unset):
// service hours, surcharges and reports are read in it.
func Location(tx *gorm.DB) (*time.Location, error) {
	var rows []struct{ Value json.RawMessage }
	if err := tx.Raw(`SELECT value FROM settings WHERE key = 'timezone'`).Scan(&rows).Error; err != nil {
		return nil, err
	}
	zone := "Asia/Shanghai"
	if len(rows) > 0 {
		if err := json.Unmarshal(rows[0].Value, &zone); err != nil {
			return nil, fmt.Errorf("setting timezone: %w", err)
		}
	}
	loc, err := time.LoadLocation(zone)
	if err != nil {
		return nil, fmt.Errorf("setting timezone: %w", err)
	}
	return loc, nil
}
