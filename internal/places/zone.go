package places

import (
	"encoding/json"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"
	"github.com/paulmach/orb/planar"
)

// Zone is a delivery zone: a Polygon or MultiPolygon in longitude/latitude degrees.
type Zone struct {
	ID       string
	Name     string
	Geometry orb.Geometry // orb.Polygon or orb.MultiPolygon
	Enabled  bool
}

// MarshalJSON writes the zone with its geometry as a GeoJSON geometry object.
func (z Zone) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		ID       string            `json:"id"`
		Name     string            `json:"name"`
		Enabled  bool              `json:"enabled"`
		Geometry *geojson.Geometry `json:"geometry"`
	}{z.ID, z.Name, z.Enabled, geojson.NewGeometry(z.Geometry)})
}

// Range is a tenant's delivery range as loaded by LoadRange: the polygons of its enabled zones.
// It is immutable, so one Range may be shared by goroutines.
type Range struct {
	polygons []rangePolygon
	bounded  bool
}

type rangePolygon struct {
	bound orb.Bound
	poly  orb.Polygon
}

// NewRange builds a range from zones; disabled zones are left out. LoadRange uses it, and tests
// and callers that already hold zones may too.
func NewRange(zones []Zone) *Range {
	r := &Range{bounded: len(zones) > 0}
	for _, z := range zones {
		if !z.Enabled {
			continue
		}
		var mp orb.MultiPolygon
		switch g := z.Geometry.(type) {
		case orb.Polygon:
			mp = orb.MultiPolygon{g}
		case orb.MultiPolygon:
			mp = g
		}
		for _, p := range mp {
			if len(p) > 0 && len(p[0]) > 0 {
				r.polygons = append(r.polygons, rangePolygon{bound: p.Bound(), poly: p})
			}
		}
	}
	return r
}

// Contains reports whether p lies in an enabled zone, boundary included, outside its holes. An
// invalid point is never contained.
func (r *Range) Contains(p Point) bool {
	if r == nil || !p.Valid() {
		return false
	}
	pt := orb.Point{p.Lng, p.Lat}
	for _, rp := range r.polygons {
		if rp.bound.Contains(pt) && planar.PolygonContains(rp.poly, pt) {
			return true
		}
	}
	return false
}

// Bounded reports whether the tenant has drawn any zone, enabled or not. A tenant without zones
// (every tenant provisioned from the default blueprint, until its admin draws one) has no
// delivery range limit; one whose zones are all disabled delivers nowhere.
func (r *Range) Bounded() bool { return r != nil && r.bounded }
