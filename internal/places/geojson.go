package places

import (
	"bytes"
	"encoding/json"
	"math"
	"strconv"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"
	"github.com/paulmach/orb/planar"
)

const (
	// MaxGeoJSONBytes bounds a zone document; a hand-drawn campus outline is a few kilobytes.
	MaxGeoJSONBytes = 1 << 20
	// MaxZoneVertices bounds the positions of one zone. The self-intersection check compares
	// every pair of edges of a ring, so this also bounds the work an upload can cause.
	MaxZoneVertices = 2000
)

// ParseGeometry validates an untrusted GeoJSON zone: a Polygon or MultiPolygon geometry, or a
// Feature holding one (what map drawing tools export). Every ring must be closed, have at
// least four positions (three distinct corners), valid coordinates, a non-zero area and no
// edges that cross or touch; a hole's corners must lie inside its shell. Altitudes are dropped and
// rings are rewound to RFC 7946 order (shells counterclockwise, holes clockwise). Failures are
// *InvalidError values matching ErrInvalidZone.
//
// Coordinates are treated as planar (longitude, latitude): fine for a campus, wrong for zones
// crossing the antimeridian or a pole, which are refused by the range checks anyway.
func ParseGeometry(raw []byte) (orb.Geometry, error) {
	if len(raw) > MaxGeoJSONBytes {
		return nil, zoneErr("must be at most %d bytes", MaxGeoJSONBytes)
	}
	var doc struct {
		Type        string          `json:"type"`
		Coordinates json.RawMessage `json:"coordinates"`
		Geometry    json.RawMessage `json:"geometry"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil, zoneErr("is not a GeoJSON object: %v", err)
	}
	if doc.Type == "Feature" {
		var inner struct {
			Type        string          `json:"type"`
			Coordinates json.RawMessage `json:"coordinates"`
		}
		if err := json.Unmarshal(doc.Geometry, &inner); err != nil {
			return nil, zoneErr("the Feature must hold a Polygon or MultiPolygon geometry")
		}
		doc.Type, doc.Coordinates = inner.Type, inner.Coordinates
	}
	var mp orb.MultiPolygon
	switch doc.Type {
	case "Polygon":
		var rings [][][]float64
		if err := decodeCoordinates(doc.Coordinates, &rings); err != nil {
			return nil, err
		}
		p, err := polygon(rings, "")
		if err != nil {
			return nil, err
		}
		mp = orb.MultiPolygon{p}
	case "MultiPolygon":
		var polys [][][][]float64
		if err := decodeCoordinates(doc.Coordinates, &polys); err != nil {
			return nil, err
		}
		if len(polys) == 0 {
			return nil, zoneErr("a MultiPolygon needs at least one polygon")
		}
		for i, rings := range polys {
			p, err := polygon(rings, "polygon "+strconv.Itoa(i)+": ")
			if err != nil {
				return nil, err
			}
			mp = append(mp, p)
		}
	default:
		return nil, zoneErr("must be a Polygon or MultiPolygon, got %q", doc.Type)
	}
	n := 0
	for _, p := range mp {
		for _, r := range p {
			n += len(r)
		}
	}
	if n > MaxZoneVertices {
		return nil, zoneErr("has %d positions, at most %d are allowed", n, MaxZoneVertices)
	}
	for i, p := range mp {
		if err := checkPolygon(p); err != nil {
			if len(mp) > 1 {
				err.Reason = "polygon " + strconv.Itoa(i) + ": " + err.Reason
			}
			return nil, err
		}
	}
	if doc.Type == "Polygon" {
		return mp[0], nil
	}
	return mp, nil
}

// MarshalGeometry encodes g as a GeoJSON geometry object.
func MarshalGeometry(g orb.Geometry) ([]byte, error) {
	return geojson.NewGeometry(g).MarshalJSON()
}

func zoneErr(format string, args ...any) *InvalidError {
	return invalid(ErrInvalidZone, "geometry", format, args...)
}

func decodeCoordinates(raw json.RawMessage, into any) error {
	if len(bytes.TrimSpace(raw)) == 0 {
		return zoneErr("coordinates are missing")
	}
	if err := json.Unmarshal(raw, into); err != nil {
		return zoneErr("coordinates must be nested arrays of numbers: %v", err)
	}
	return nil
}

// polygon builds a polygon from decoded rings, checking positions and closure; prefix names the
// polygon of a MultiPolygon in errors.
func polygon(rings [][][]float64, prefix string) (orb.Polygon, error) {
	if len(rings) == 0 {
		return nil, zoneErr("%sa polygon needs at least one ring", prefix)
	}
	p := make(orb.Polygon, 0, len(rings))
	for i, ring := range rings {
		if len(ring) < 4 {
			return nil, zoneErr("%sring %d has %d positions, at least 4 are needed", prefix, i, len(ring))
		}
		r := make(orb.Ring, 0, len(ring))
		for j, pos := range ring {
			if len(pos) < 2 || len(pos) > 3 {
				return nil, zoneErr("%sring %d position %d must be [lng, lat] or [lng, lat, alt]", prefix, i, j)
			}
			if !(Point{Lng: pos[0], Lat: pos[1]}).Valid() {
				return nil, zoneErr("%sring %d position %d: longitude must be within -180..180 and latitude within -90..90", prefix, i, j)
			}
			r = append(r, orb.Point{pos[0], pos[1]})
		}
		if r[0] != r[len(r)-1] {
			return nil, zoneErr("%sring %d is not closed: its last position must repeat the first", prefix, i)
		}
		p = append(p, r)
	}
	return p, nil
}

// checkPolygon checks the shape of a polygon whose positions are valid, and rewinds its rings.
func checkPolygon(p orb.Polygon) *InvalidError {
	for i, r := range p {
		corners := distinct(r)
		if len(corners) < 4 {
			return zoneErr("ring %d needs at least three distinct corners", i)
		}
		if planar.Area(r) == 0 {
			return zoneErr("ring %d has no area", i)
		}
		if crossesItself(corners) {
			return zoneErr("ring %d crosses or touches itself", i)
		}
		want := orb.CCW
		if i > 0 {
			want = orb.CW
		}
		if r.Orientation() != want {
			r.Reverse()
		}
	}
	for i, hole := range p[1:] {
		for _, pt := range hole {
			if !planar.RingContains(p[0], pt) {
				return zoneErr("hole %d is not inside the outer ring", i+1)
			}
		}
	}
	if planar.Area(p) <= 0 {
		return zoneErr("the polygon has no area left outside its holes")
	}
	return nil
}

// distinct returns r (closed) without consecutive repeated positions, still closed.
func distinct(r orb.Ring) orb.Ring {
	out := make(orb.Ring, 0, len(r))
	for _, pt := range r {
		if len(out) == 0 || out[len(out)-1] != pt {
			out = append(out, pt)
		}
	}
	return out
}

// crossesItself reports whether two edges of the closed ring r (no consecutive repeats) cross
// or touch anywhere but at the corner two neighbouring edges share, or whether neighbouring
// edges fold back over each other. O(n²) in the edges, bounded by MaxZoneVertices.
func crossesItself(r orb.Ring) bool {
	n := len(r) - 1 // edges: r[i] -> r[i+1]
	for i := 0; i < n; i++ {
		a, b := r[i], r[i+1]
		// A spike: the next edge goes straight back along this one.
		c := r[(i+2)%n]
		if orient(a, b, c) == 0 && (c[0]-b[0])*(b[0]-a[0])+(c[1]-b[1])*(b[1]-a[1]) < 0 {
			return true
		}
		for j := i + 2; j < n; j++ {
			if i == 0 && j == n-1 {
				continue // the last edge ends where the first begins
			}
			if segmentsMeet(a, b, r[j], r[j+1]) {
				return true
			}
		}
	}
	return false
}

// orient is the sign of the cross product (b-a)×(c-a): >0 left turn, <0 right turn, 0 collinear.
func orient(a, b, c orb.Point) int {
	v := (b[0]-a[0])*(c[1]-a[1]) - (b[1]-a[1])*(c[0]-a[0])
	switch {
	case v > 0:
		return 1
	case v < 0:
		return -1
	}
	return 0
}

// segmentsMeet reports whether closed segments pq and rs share any point.
func segmentsMeet(p, q, r, s orb.Point) bool {
	if math.Max(p[0], q[0]) < math.Min(r[0], s[0]) || math.Max(r[0], s[0]) < math.Min(p[0], q[0]) ||
		math.Max(p[1], q[1]) < math.Min(r[1], s[1]) || math.Max(r[1], s[1]) < math.Min(p[1], q[1]) {
		return false
	}
	o1, o2, o3, o4 := orient(p, q, r), orient(p, q, s), orient(r, s, p), orient(r, s, q)
	if o1 != o2 && o3 != o4 {
		return true
	}
	return o1 == 0 && onSegment(p, q, r) || o2 == 0 && onSegment(p, q, s) ||
		o3 == 0 && onSegment(r, s, p) || o4 == 0 && onSegment(r, s, q)
}

// onSegment reports whether c, collinear with ab, lies within ab's bounding box.
func onSegment(a, b, c orb.Point) bool {
	return math.Min(a[0], b[0]) <= c[0] && c[0] <= math.Max(a[0], b[0]) &&
		math.Min(a[1], b[1]) <= c[1] && c[1] <= math.Max(a[1], b[1])
}

// decodeStored reads a geometry this package wrote (or the migration copied from a blueprint)
// without the strict checks, so a zone already in the database keeps working even if it
// predates a rule. It returns an orb.Polygon or orb.MultiPolygon; NewRange skips empty ones.
func decodeStored(raw []byte) (orb.Geometry, error) {
	g, err := geojson.UnmarshalGeometry(raw)
	if err != nil {
		return nil, err
	}
	switch v := g.Geometry().(type) {
	case orb.Polygon, orb.MultiPolygon:
		return v, nil
	}
	return nil, ErrInvalidZone
}
