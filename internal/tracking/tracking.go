package tracking

import (
	"math"
	"strconv"
	"time"
)

// Point is a WGS 84 position in degrees, GeoJSON order.
type Point struct {
	Lng float64 `json:"lng"`
	Lat float64 `json:"lat"`
}

// Ping is one position report from a courier's app.
type Ping struct {
	Lng, Lat float64
	// Accuracy is the device's horizontal accuracy in metres; 0 means not reported.
	Accuracy float64
	// At is when the device took the fix. It is used only within ±5 minutes of the server's
	// clock (phones with a wrong clock are common); nil or anything further off means now.
	At *time.Time
}

// Fix is a courier's latest accepted position.
type Fix struct {
	CourierID string    `json:"courierId" format:"uuid"`
	Lng       float64   `json:"lng"`
	Lat       float64   `json:"lat"`
	Accuracy  float64   `json:"accuracy,omitempty" doc:"Metres; absent when the device did not report it."`
	At        time.Time `json:"at" doc:"When the fix was taken."`
}

// NearbyCourier is a courier found by Nearby, with the great-circle distance to the centre.
type NearbyCourier struct {
	Fix
	DistanceM float64 `json:"distanceM"`
}

// TrailPoint is one stored point of an order's trail.
type TrailPoint struct {
	CourierID string    `json:"courierId" format:"uuid" doc:"The courier who carried the order at this point (orders can be reassigned)."`
	At        time.Time `json:"at"`
	Lng       float64   `json:"lng"`
	Lat       float64   `json:"lat"`
	Accuracy  float64   `json:"accuracy,omitempty" doc:"Metres; absent when the device did not report it."`
}

const (
	// DefaultMinInterval is the shortest time between two accepted pings of one courier. The
	// courier app sends a fix every few seconds; faster only costs battery and Redis.
	DefaultMinInterval = 2 * time.Second
	// StaleAfter is the age beyond which a fix no longer says where a courier is: the hall and
	// dispatch treat the courier's position as unknown rather than route by a stale one.
	StaleAfter = 10 * time.Minute
	// ClockSkew is how far a device's fix time may be from the server's clock and still be
	// used.
	ClockSkew = 5 * time.Minute
	// MaxSpeed (m/s, 180 km/h) is faster than any errand on a campus travels; a fix implying
	// more is a GPS jump or a spoofed location.
	MaxSpeed = 50.0
	// MaxAccuracy (m) is the worst accuracy worth keeping: beyond it a fix only says "in town".
	MaxAccuracy = 5000.0
	// maxSlack caps how much of the two fixes' reported accuracy the speed check forgives. GPS
	// jitter of tens of metres between two fixes two seconds apart is noise, not movement; the
	// cap keeps a client that reports huge accuracies from teleporting freely.
	maxSlack = 100.0
	// maxGeoLat is the largest latitude a Redis GEO set accepts (the Web Mercator limit).
	maxGeoLat = 85.05112878
)

func invalid(field, reason string) error { return &InvalidError{Field: field, Reason: reason} }

func finite(f float64) bool { return !math.IsNaN(f) && !math.IsInf(f, 0) }

// validate checks a fix before it costs a Redis round trip.
func (p Ping) validate() error {
	switch {
	case !finite(p.Lng):
		return invalid("lng", "must be a finite number")
	case !finite(p.Lat):
		return invalid("lat", "must be a finite number")
	case p.Lng < -180 || p.Lng > 180:
		return invalid("lng", "must be between -180 and 180")
	case p.Lat < -90 || p.Lat > 90:
		return invalid("lat", "must be between -90 and 90")
	case math.Abs(p.Lat) > maxGeoLat:
		return invalid("lat", "must be between -85.05 and 85.05, the latitudes the live map can place")
	case p.Lng == 0 && p.Lat == 0:
		return invalid("lng", "(0, 0) is what a device without a fix reports; wait for a real fix")
	case !finite(p.Accuracy):
		return invalid("accuracy", "must be a finite number")
	case p.Accuracy < 0 || p.Accuracy > MaxAccuracy:
		return invalid("accuracy", "must be between 0 and 5000 metres")
	}
	return nil
}

// validPoint checks a query centre.
func validPoint(p Point) error {
	return Ping{Lng: p.Lng, Lat: p.Lat}.validate()
}

// Redis keys and channels; see the package documentation.
func tenantPrefix(tid int64) string { return "t:" + strconv.FormatInt(tid, 10) + ":" }
func onlineKey(tid int64) string    { return tenantPrefix(tid) + "couriers:online" }
func geoKey(tid int64) string       { return tenantPrefix(tid) + "geo" }
func lastKey(tid int64) string      { return tenantPrefix(tid) + "tracking:last" }
func trailKey(tid int64) string     { return tenantPrefix(tid) + "tracking:trail" }
func claimedKey(tid int64) string   { return tenantPrefix(tid) + "tracking:trail:claimed" }
func leaseKey(tid int64) string     { return tenantPrefix(tid) + "tracking:trail:lease" }

// pendingKey is the set of tenant ids whose trail buffer has points.
const pendingKey = "tracking:trail:pending"
