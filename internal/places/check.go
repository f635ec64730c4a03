package places

import (
	"errors"
	"fmt"
	"time"
)

// CheckOrder decides whether an order with this pickup and drop-off, placed at the instant at,
// may be accepted. It returns nil, or an error matching exactly one of:
//
//   - ErrInvalidPoint (an *InvalidError naming "pickup" or "dropoff"): not a lng/lat pair;
//   - ErrClosedDate: at falls on a closed local date;
//   - ErrOutsideHours: at falls outside the weekly service hours;
//   - ErrPickupOutOfRange / ErrDropoffOutOfRange: the point lies outside every enabled zone.
//
// When several apply the first in that order wins: a closed service refuses any order, so the
// student is told that before being asked to move a pin. A range without any zone (Bounded
// false) accepts every valid point. CheckOrder is pure; load r and h once per request.
func CheckOrder(r *Range, h *Hours, pickup, dropoff Point, at time.Time) error {
	if r == nil || h == nil {
		return errors.New("places: CheckOrder needs the tenant's range and hours")
	}
	if !pickup.Valid() {
		return invalid(ErrInvalidPoint, "pickup", "longitude must be within -180..180 and latitude within -90..90")
	}
	if !dropoff.Valid() {
		return invalid(ErrInvalidPoint, "dropoff", "longitude must be within -180..180 and latitude within -90..90")
	}
	if open, why := h.Open(at); !open {
		if why == ReasonClosedDate {
			reason, _ := h.ClosedReason(at)
			return fmt.Errorf("%w: %s %s", ErrClosedDate, at.In(h.location()).Format(time.DateOnly), reason)
		}
		return fmt.Errorf("%w at %s", ErrOutsideHours, at.In(h.location()).Format("Mon 15:04"))
	}
	if r.Bounded() {
		if !r.Contains(pickup) {
			return ErrPickupOutOfRange
		}
		if !r.Contains(dropoff) {
			return ErrDropoffOutOfRange
		}
	}
	return nil
}
