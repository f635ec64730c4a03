package pricing

import (
	"fmt"
	"math"
)

// EarthRadius is the mean Earth radius in metres (IUGG), the one Distance uses.
const EarthRadius = 6_371_008.8

// Point is a WGS-84 position in degrees, longitude first as in GeoJSON.
type Point struct {
	Lng float64 `json:"lng"`
	Lat float64 `json:"lat"`
}

// Validate returns ErrBadPoint unless p is finite and within lng [-180, 180], lat [-90, 90].
func (p Point) Validate() error {
	// Written as negated ranges so NaN, which fails every comparison, is rejected too.
	if !(p.Lng >= -180 && p.Lng <= 180) || !(p.Lat >= -90 && p.Lat <= 90) {
		return fmt.Errorf("%w: (%v, %v)", ErrBadPoint, p.Lng, p.Lat)
	}
	return nil
}

// Distance is the great-circle distance between a and b in metres (haversine). It is
// symmetric and finite for valid points; callers validate points first.
func Distance(a, b Point) float64 {
	const rad = math.Pi / 180
	lat1, lat2 := a.Lat*rad, b.Lat*rad
	s1 := math.Sin((lat2 - lat1) / 2)
	s2 := math.Sin((b.Lng - a.Lng) * rad / 2)
	h := s1*s1 + math.Cos(lat1)*math.Cos(lat2)*s2*s2
	// Rounding can push h a hair above 1 for antipodal points; Asin would return NaN.
	return 2 * EarthRadius * math.Asin(math.Min(1, math.Sqrt(h)))
}
