package places

import (
	"errors"
	"fmt"
)

var (
	// ErrPlaceNotFound is returned for a place id that does not exist in this tenant.
	ErrPlaceNotFound = errors.New("place not found")
	// ErrInvalidPlace matches every *InvalidError about a place (name, kind, coordinates, sort).
	ErrInvalidPlace = errors.New("invalid place")
	// ErrDuplicatePlace is returned when another place (enabled or not) has the same name.
	ErrDuplicatePlace = errors.New("a place with this name exists")
	// ErrZoneNotFound is returned for a zone id that does not exist in this tenant.
	ErrZoneNotFound = errors.New("zone not found")
	// ErrInvalidZone matches every *InvalidError about a zone's name or GeoJSON geometry.
	ErrInvalidZone = errors.New("invalid zone")
	// ErrInvalidHours matches every *InvalidError about service hours or closed dates.
	ErrInvalidHours = errors.New("invalid service hours")
	// ErrClosedDateNotFound is returned when removing a date that is not closed.
	ErrClosedDateNotFound = errors.New("closed date not found")
	// ErrInvalidPoint matches an *InvalidError for a pickup or drop-off that is not a valid
	// longitude/latitude pair.
	ErrInvalidPoint = errors.New("invalid coordinates")
)

// The refusals of CheckOrder. Each has its own problem code so the student app can say which
// part of the order to change.
var (
	// ErrPickupOutOfRange (problem code pickup_out_of_range): the pickup lies outside every
	// enabled delivery zone.
	ErrPickupOutOfRange = errors.New("pickup is outside the delivery range")
	// ErrDropoffOutOfRange (problem code dropoff_out_of_range): the drop-off lies outside every
	// enabled delivery zone.
	ErrDropoffOutOfRange = errors.New("drop-off is outside the delivery range")
	// ErrClosedDate (problem code service_closed_date): the order falls on a closed date.
	ErrClosedDate = errors.New("the service is closed on this date")
	// ErrOutsideHours (problem code outside_service_hours): the order falls outside the weekly
	// service hours.
	ErrOutsideHours = errors.New("outside service hours")
)

// InvalidError says which field of an input was refused and why. errors.Is matches its
// sentinel (ErrInvalidPlace, ErrInvalidZone, ErrInvalidHours or ErrInvalidPoint), so the HTTP
// layer maps the kind with one rule and can still report Field to the form.
type InvalidError struct {
	Err    error  // the sentinel
	Field  string // e.g. "name", "at.lng", "geometry", "week.mon[0]"
	Reason string // for people; may change
}

func (e *InvalidError) Error() string { return fmt.Sprintf("%v: %s: %s", e.Err, e.Field, e.Reason) }

// Unwrap returns the sentinel.
func (e *InvalidError) Unwrap() error { return e.Err }

func invalid(sentinel error, field, format string, args ...any) *InvalidError {
	return &InvalidError{Err: sentinel, Field: field, Reason: fmt.Sprintf(format, args...)}
}
