package tracking

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// The refusals of Ping. Each has its own problem code so the courier app knows whether to fix
// its input (location_invalid), drop the fix (location_implausible), slow down
// (location_too_frequent) or stop sending until the courier goes online (courier_offline).
var (
	// ErrInvalidLocation (location_invalid): not a usable WGS 84 fix; *InvalidError says why.
	ErrInvalidLocation = errors.New("invalid location")
	// ErrImplausible (location_implausible): the fix implies the courier moved faster than
	// anyone on campus can, or it is not newer than the courier's last fix.
	ErrImplausible = errors.New("implausible location")
	// ErrTooFrequent (location_too_frequent): the courier already had a ping accepted within
	// the minimum interval; a *TooFrequentError says when to try again.
	ErrTooFrequent = errors.New("position updates too frequent")
	// ErrOffline (courier_offline): the courier is not in the tenant's online set.
	ErrOffline = errors.New("courier is offline")
	// ErrOrderNotFound (order_not_found): Trail was asked for an order this tenant does not have.
	ErrOrderNotFound = errors.New("order not found")
	// ErrInvalidQuery is returned by the read API for a radius, limit or id it cannot use.
	ErrInvalidQuery = errors.New("invalid position query")
)

// InvalidError says which part of a fix was refused; errors.Is matches ErrInvalidLocation.
type InvalidError struct {
	Field  string // lng, lat, accuracy
	Reason string
}

func (e *InvalidError) Error() string {
	return fmt.Sprintf("%v: %s: %s", ErrInvalidLocation, e.Field, e.Reason)
}

// Unwrap returns ErrInvalidLocation.
func (e *InvalidError) Unwrap() error { return ErrInvalidLocation }

// TooFrequentError carries how long the courier must wait; errors.Is matches ErrTooFrequent
// and the HTTP layer turns Wait into a Retry-After header.
type TooFrequentError struct{ Wait time.Duration }

func (e *TooFrequentError) Error() string {
	return fmt.Sprintf("%v: retry after %d s", ErrTooFrequent, retrySeconds(e.Wait))
}

// Unwrap returns ErrTooFrequent.
func (e *TooFrequentError) Unwrap() error { return ErrTooFrequent }

// RetryAfter implements httpx.RetryAfterer, in whole seconds rounded up: Retry-After is sent in
// seconds, and a rounded-down value would bring the retry back before the interval is over.
func (e *TooFrequentError) RetryAfter() time.Duration {
	return time.Duration(retrySeconds(e.Wait)) * time.Second
}

// retrySeconds rounds up: a client told "0" would retry at once and be refused again.
func retrySeconds(d time.Duration) int64 {
	return max(1, int64(math.Ceil(d.Seconds())))
}
