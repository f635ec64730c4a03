package places_test

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/planar"

	"github.com/paotui/paotui/internal/places"
)

const (
	square      = `{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,1],[0,0]]]}`
	squareCW    = `{"type":"Polygon","coordinates":[[[0,0],[0,1],[1,1],[1,0],[0,0]]]}`
	withHole    = `{"type":"Polygon","coordinates":[[[0,0],[4,0],[4,4],[0,4],[0,0]],[[1,1],[2,1],[2,2],[1,2],[1,1]]]}`
	twoSquares  = `{"type":"MultiPolygon","coordinates":[[[[0,0],[1,0],[1,1],[0,1],[0,0]]],[[[2,2],[3,2],[3,3],[2,3],[2,2]]]]}`
	bowtie      = `{"type":"Polygon","coordinates":[[[0,0],[3,3],[3,0],[0,1],[0,0]]]}`
	asFeature   = `{"type":"Feature","properties":{"name":"x"},"geometry":` + square + `}`
	with3D      = `{"type":"Polygon","coordinates":[[[0,0,5],[1,0,5],[1,1,5],[0,1,5],[0,0,5]]]}`
	demoPolygon = `{"type":"Polygon","coordinates":[[[114.3567,30.5296],[114.3733,30.5296],[114.3733,30.53716],[114.36915,30.53716],[114.36915,30.5404],[114.3567,30.5404],[114.3567,30.5296]]]}`
)

func TestParseGeometry(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		in     string
		reason string // substring of the refusal; "" when accepted
	}{
		{"square", square, ""},
		{"clockwise square", squareCW, ""},
		{"hole", withHole, ""},
		{"multipolygon", twoSquares, ""},
		{"feature", asFeature, ""},
		{"altitudes", with3D, ""},
		{"demo zone with notch", demoPolygon, ""},
		{"not JSON", `{"type":"Polygon",`, "not a GeoJSON object"},
		{"JSON array", `[1,2]`, "not a GeoJSON object"},
		{"point", `{"type":"Point","coordinates":[114.36,30.53]}`, "must be a Polygon or MultiPolygon"},
		{"line", `{"type":"LineString","coordinates":[[0,0],[1,1]]}`, "must be a Polygon or MultiPolygon"},
		{"feature collection", `{"type":"FeatureCollection","features":[]}`, "must be a Polygon or MultiPolygon"},
		{"feature of a point", `{"type":"Feature","geometry":{"type":"Point","coordinates":[1,2]}}`, "must be a Polygon or MultiPolygon"},
		{"feature without geometry", `{"type":"Feature"}`, "must hold a Polygon"},
		{"open ring", `{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,1]]]}`, "not closed"},
		{"open ring of five", `{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,1],[0,0.5]]]}`, "not closed"},
		{"too few points", `{"type":"Polygon","coordinates":[[[0,0],[1,0],[0,0]]]}`, "at least 4 are needed"},
		{"repeated corner only", `{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,0],[0,0]]]}`, "three distinct corners"},
		{"longitude out of range", `{"type":"Polygon","coordinates":[[[0,0],[181,0],[181,1],[0,1],[0,0]]]}`, "longitude must be within"},
		{"latitude out of range", `{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,91],[0,1],[0,0]]]}`, "latitude within"},
		{"huge number", `{"type":"Polygon","coordinates":[[[0,0],[1e400,0],[1,1],[0,1],[0,0]]]}`, "nested arrays of numbers"},
		{"string coordinate", `{"type":"Polygon","coordinates":[[[0,0],["1",0],[1,1],[0,1],[0,0]]]}`, "nested arrays of numbers"},
		{"position of one number", `{"type":"Polygon","coordinates":[[[0,0],[1],[1,1],[0,1],[0,0]]]}`, "must be [lng, lat]"},
		{"no coordinates", `{"type":"Polygon"}`, "coordinates are missing"},
		{"no rings", `{"type":"Polygon","coordinates":[]}`, "at least one ring"},
		{"empty multipolygon", `{"type":"MultiPolygon","coordinates":[]}`, "at least one polygon"},
		{"symmetric bowtie", `{"type":"Polygon","coordinates":[[[0,0],[1,1],[1,0],[0,1],[0,0]]]}`, "no area"},
		{"collinear", `{"type":"Polygon","coordinates":[[[0,0],[1,0],[2,0],[0,0]]]}`, "no area"},
		{"self-intersecting", bowtie, "crosses or touches itself"},
		{"spike", `{"type":"Polygon","coordinates":[[[0,0],[2,0],[2,2],[2,3],[2,2],[0,2],[0,0]]]}`, "crosses or touches itself"},
		{"touching itself at a corner", `{"type":"Polygon","coordinates":[[[0,0],[2,0],[1,1],[2,2],[0,2],[1,1],[0,0]]]}`, "crosses or touches itself"},
		{"hole outside", `{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,1],[0,0]],[[5,5],[6,5],[6,6],[5,6],[5,5]]]}`, "hole 1 is not inside"},
		{"hole fills the shell", `{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,1],[0,0]],[[0,0],[1,0],[1,1],[0,1],[0,0]]]}`, "no area left"},
		{"bad polygon in a multipolygon", `{"type":"MultiPolygon","coordinates":[[[[0,0],[1,0],[1,1],[0,1],[0,0]]],[[[5,5],[8,8],[8,5],[5,6],[5,5]]]]}`, "polygon 1: "},
		{"too large", `{"type":"Polygon","coordinates":[[` + strings.Repeat("[0,0],", places.MaxGeoJSONBytes/6) + `[0,0]]]}`, "at most"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			g, err := places.ParseGeometry([]byte(tc.in))
			if tc.reason == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				if planar.Area(g) <= 0 {
					t.Fatalf("accepted %v without area", g)
				}
				return
			}
			var ie *places.InvalidError
			if !errors.As(err, &ie) || !errors.Is(err, places.ErrInvalidZone) || ie.Field != "geometry" {
				t.Fatalf("want an ErrInvalidZone on geometry, got %v", err)
			}
			if !strings.Contains(ie.Reason, tc.reason) {
				t.Fatalf("reason %q does not say %q", ie.Reason, tc.reason)
			}
		})
	}
}

// Accepted zones are rewound to RFC 7946 order (shells counterclockwise, holes clockwise) and
// lose their altitudes.
func TestParseGeometryNormalizes(t *testing.T) {
	t.Parallel()
	g, err := places.ParseGeometry([]byte(squareCW))
	if err != nil {
		t.Fatal(err)
	}
	if o := g.(orb.Polygon)[0].Orientation(); o != orb.CCW {
		t.Fatalf("shell orientation %v, want counterclockwise", o)
	}
	g, err = places.ParseGeometry([]byte(withHole))
	if err != nil {
		t.Fatal(err)
	}
	if o := g.(orb.Polygon)[1].Orientation(); o != orb.CW {
		t.Fatalf("hole orientation %v, want clockwise", o)
	}
	g, err = places.ParseGeometry([]byte(with3D))
	if err != nil {
		t.Fatal(err)
	}
	doc, err := places.MarshalGeometry(g)
	if err != nil || strings.Contains(string(doc), "5") {
		t.Fatalf("altitude kept: %s %v", doc, err)
	}
	r := places.NewRange([]places.Zone{{Geometry: mustParse(t, withHole), Enabled: true}})
	for _, tc := range []struct {
		p    places.Point
		want bool
	}{{places.Point{Lng: 0.5, Lat: 0.5}, true}, {places.Point{Lng: 1.5, Lat: 1.5}, false}, {places.Point{Lng: 3, Lat: 3}, true}, {places.Point{Lng: 5, Lat: 5}, false}} {
		if got := r.Contains(tc.p); got != tc.want {
			t.Errorf("Contains(%v) = %v, want %v (holes are outside the zone)", tc.p, got, tc.want)
		}
	}
}

func mustParse(t testing.TB, s string) orb.Geometry {
	t.Helper()
	g, err := places.ParseGeometry([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// FuzzPutZoneGeoJSON fuzzes the parser PutZone runs on the admin's upload before anything
// reaches the database. It must never panic; what it accepts has area, is stable under a
// round trip through storage, and (without holes) contains its own first corner.
func FuzzPutZoneGeoJSON(f *testing.F) {
	for _, s := range []string{square, squareCW, withHole, twoSquares, bowtie, asFeature, with3D, demoPolygon,
		`{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,1]]]}`, `{"type":"Point","coordinates":[1,2]}`,
		`{"type":"MultiPolygon","coordinates":[[[]]]}`, `{"type":"Polygon","coordinates":[[[0,0],[1e308,0],[1,1],[0,0]]]}`, `null`, `{}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		g, err := places.ParseGeometry(raw)
		if err != nil {
			if !errors.Is(err, places.ErrInvalidZone) {
				t.Fatalf("refusal %v is not an ErrInvalidZone", err)
			}
			return
		}
		if a := planar.Area(g); !(a > 0) {
			t.Fatalf("accepted a zone of area %v", a)
		}
		doc, err := places.MarshalGeometry(g)
		if err != nil {
			t.Fatal(err)
		}
		again, err := places.ParseGeometry(doc)
		if err != nil {
			t.Fatalf("the stored form %s is refused: %v", doc, err)
		}
		if !orb.Equal(g, again) {
			t.Fatalf("round trip changed %v into %v", g, again)
		}
		var first orb.Polygon
		switch v := g.(type) {
		case orb.Polygon:
			first = v
		case orb.MultiPolygon:
			first = v[0]
		}
		if len(first) == 1 {
			c := first[0][0]
			r := places.NewRange([]places.Zone{{Geometry: g, Enabled: true}})
			if !r.Contains(places.Point{Lng: c[0], Lat: c[1]}) {
				t.Fatalf("zone does not contain its own corner %v", c)
			}
		}
	})
}

// circle is a closed ring of n corners around (114.36, 30.53), as GeoJSON.
func circle(n int) []byte {
	var b strings.Builder
	b.WriteString(`{"type":"Polygon","coordinates":[[`)
	for i := 0; i <= n; i++ {
		a := 2 * math.Pi * float64(i%n) / float64(n)
		fmt.Fprintf(&b, "[%v,%v]", 114.36+0.01*math.Cos(a), 30.53+0.01*math.Sin(a))
		if i < n {
			b.WriteByte(',')
		}
	}
	b.WriteString(`]]}`)
	return []byte(b.String())
}

func TestParseGeometryVertexLimit(t *testing.T) {
	t.Parallel()
	if _, err := places.ParseGeometry(circle(places.MaxZoneVertices - 1)); err != nil {
		t.Fatalf("a ring of %d positions: %v", places.MaxZoneVertices, err)
	}
	if _, err := places.ParseGeometry(circle(places.MaxZoneVertices)); !errors.Is(err, places.ErrInvalidZone) {
		t.Fatalf("a ring of %d positions: want ErrInvalidZone, got %v", places.MaxZoneVertices+1, err)
	}
}

// BenchmarkParseGeometry is the worst case an upload can cause (the self-intersection check is
// quadratic in a ring's corners) next to the demo zone as the baseline.
func BenchmarkParseGeometry(b *testing.B) {
	for _, bc := range []struct {
		name string
		doc  []byte
	}{{"demo", []byte(demoPolygon)}, {"max_vertices", circle(places.MaxZoneVertices - 1)}} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := places.ParseGeometry(bc.doc); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
