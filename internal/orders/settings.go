package orders

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/paotui/paotui/internal/blueprint"
)

// rules are the tenant settings orders obey, read from the settings documents the blueprint
// seeded and the admin edits.
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
	var rows []struct {
		Key   string
		Value json.RawMessage
	}
	if err := tx.Raw(`SELECT key, value FROM settings WHERE key IN ('timezone', 'commission', 'orders', 'surcharges', 'pricing')`).
		Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("read settings: %w", err)
	}
	r := &rules{CourierShareBP: 8000, PaymentTimeout: 15 * time.Minute, AutoConfirmAfter: 24 * time.Hour, FreeCancelUntil: Accepted}
	zone := "Asia/Shanghai"
	for _, row := range rows {
		var err error
		switch row.Key {
		case "timezone":
			err = json.Unmarshal(row.Value, &zone)
		case "commission":
			var c struct {
				CourierShareBp *int `json:"courierShareBp"`
			}
			if err = json.Unmarshal(row.Value, &c); err == nil && c.CourierShareBp != nil {
				r.CourierShareBP = *c.CourierShareBp
			}
		case "orders":
			var o struct {
				PaymentTimeout   string `json:"paymentTimeout"`
				AutoConfirmAfter string `json:"autoConfirmAfter"`
				FreeCancelUntil  string `json:"freeCancelUntil"`
			}
			if err = json.Unmarshal(row.Value, &o); err == nil {
				err = errors.Join(parseDur(o.PaymentTimeout, &r.PaymentTimeout), parseDur(o.AutoConfirmAfter, &r.AutoConfirmAfter))
				if s := Status(o.FreeCancelUntil); s.Valid() {
					r.FreeCancelUntil = s
				}
			}
		case "surcharges":
			err = json.Unmarshal(row.Value, &r.Surcharges)
		case "pricing":
			var p struct {
				DetourFactor float64 `json:"detourFactor"`
			}
			if err = json.Unmarshal(row.Value, &p); err == nil {
				r.Detour = p.DetourFactor
			}
		}
		if err != nil {
			return nil, fmt.Errorf("setting %s: %w", row.Key, err)
		}
	}
	loc, err := time.LoadLocation(zone)
	if err != nil {
		return nil, fmt.Errorf("setting timezone: %w", err)
	}
	r.Loc = loc
	return r, nil
}

func parseDur(s string, into *time.Duration) error {
	if s == "" {
		return nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return err
	}
	if d > 0 {
		*into = d
	}
	return nil
}

// freeToCancel reports whether a student may still cancel an order in s without staff: up to
// and including the tenant's free_cancel_until status.
func (r *rules) freeToCancel(s Status) bool {
	order := map[Status]int{AwaitingPayment: 0, AwaitingCourier: 1, Accepted: 2, PickedUp: 3}
	at, ok := order[s]
	limit, ok2 := order[r.FreeCancelUntil]
	return ok && ok2 && at <= limit
}
