package orders

import (
	"time"

	"gorm.io/gorm"

	"github.com/paotui/paotui/internal/blueprint"
	"github.com/paotui/paotui/internal/settings"
)

// rules are the tenant settings orders obey, as the settings package reads them (one place
// for the documents and their defaults).
type rules struct {
	Loc              *time.Location
	CourierShareBP   int
	PaymentTimeout   time.Duration
	AutoConfirmAfter time.Duration
	FreeCancelUntil  Status
	Surcharges       []blueprint.Surcharge
	Detour           float64
}

func loadRules(tx *gorm.DB) (*rules, error) {
	b, err := settings.Load(tx)
	if err != nil {
		return nil, err
	}
	loc, err := settings.Location(tx)
	if err != nil {
		return nil, err
	}
	r := &rules{Loc: loc, CourierShareBP: b.CourierShareBP, FreeCancelUntil: Status(b.FreeCancelUntil), Detour: b.DetourFactor}
	// Load only returns durations it could parse; stored values are validated on save.
	r.PaymentTimeout, _ = time.ParseDuration(b.PaymentTimeout)
	r.AutoConfirmAfter, _ = time.ParseDuration(b.AutoConfirmAfter)
	for _, s := range b.Surcharges {
		r.Surcharges = append(r.Surcharges, blueprint.Surcharge{Name: s.Name, From: s.From, To: s.To, Fee: s.Fee})
	}
	return r, nil
}

// freeToCancel reports whether a student may still cancel an order in s without staff: up to
// and including the tenant's free_cancel_until status.
func (r *rules) freeToCancel(s Status) bool {
	order := map[Status]int{AwaitingPayment: 0, AwaitingCourier: 1, Accepted: 2, PickedUp: 3}
	at, ok := order[s]
	limit, ok2 := order[r.FreeCancelUntil]
	return ok && ok2 && at <= limit
}
