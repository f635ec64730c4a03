package places_test

import (
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/paulmach/orb/geojson"
	"gorm.io/gorm"

	"github.com/paotui/paotui/internal/places"
	"github.com/paotui/paotui/internal/store"
)

func TestPlaceCRUD(t *testing.T) {
	e := newEnv(t, "tenant_crud")
	const s = "tenant_crud"
	var gate places.Place
	e.in(t, s, func(tx *gorm.DB) (err error) {
		gate, err = places.CreatePlace(tx, places.Place{Name: "  南门 ", Kind: "gate", At: places.Point{Lng: 114.365, Lat: 30.5297}, Sort: 10})
		return err
	})
	if gate.ID == "" || gate.Name != "南门" || !gate.Enabled {
		t.Fatalf("created %+v: want an id, a trimmed name, enabled", gate)
	}

	t.Run("invalid", func(t *testing.T) {
		ok := places.Place{Name: "北门", Kind: "gate", At: places.Point{Lng: 114.36, Lat: 30.54}}
		for _, tc := range []struct {
			name  string
			edit  func(p *places.Place)
			field string
		}{
			{"empty name", func(p *places.Place) { p.Name = "   " }, "name"},
			{"long name", func(p *places.Place) { p.Name = strings.Repeat("楼", 61) }, "name"},
			{"control character", func(p *places.Place) { p.Name = "北\x00门" }, "name"},
			{"unknown kind", func(p *places.Place) { p.Kind = "castle" }, "kind"},
			{"no kind", func(p *places.Place) { p.Kind = "" }, "kind"},
			{"longitude", func(p *places.Place) { p.At.Lng = 180.5 }, "at.lng"},
			{"NaN latitude", func(p *places.Place) { p.At.Lat = math.NaN() }, "at.lat"},
			{"latitude", func(p *places.Place) { p.At.Lat = -90.01 }, "at.lat"},
			{"sort", func(p *places.Place) { p.Sort = math.MaxInt32 }, "sort"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				p := ok
				tc.edit(&p)
				e.in(t, s, func(tx *gorm.DB) error {
					_, err := places.CreatePlace(tx, p)
					var ie *places.InvalidError
					if !errors.Is(err, places.ErrInvalidPlace) || !errors.As(err, &ie) || ie.Field != tc.field {
						t.Fatalf("create: want ErrInvalidPlace on %s, got %v", tc.field, err)
					}
					p.ID = gate.ID
					if _, err := places.UpdatePlace(tx, p); !errors.Is(err, places.ErrInvalidPlace) {
						t.Fatalf("update: want ErrInvalidPlace, got %v", err)
					}
					return nil
				})
			})
		}
	})

	var north places.Place
	e.in(t, s, func(tx *gorm.DB) (err error) {
		// A refusal leaves the transaction usable: the next statement in it still works.
		if _, err := places.CreatePlace(tx, places.Place{Name: "南门", Kind: "gate", At: places.Point{Lng: 1, Lat: 1}}); !errors.Is(err, places.ErrDuplicatePlace) {
			t.Errorf("same name again: want ErrDuplicatePlace, got %v", err)
		}
		north, err = places.CreatePlace(tx, places.Place{Name: "北门", Kind: "gate", At: places.Point{Lng: 114.36251, Lat: 30.540238}, Sort: 20})
		if err != nil {
			return err
		}
		north.Name = "南门"
		if _, err := places.UpdatePlace(tx, north); !errors.Is(err, places.ErrDuplicatePlace) {
			t.Errorf("rename onto another place: want ErrDuplicatePlace, got %v", err)
		}
		north.Name, north.Kind, north.Sort = "北门(North Gate)", "gate", 5
		north, err = places.UpdatePlace(tx, north)
		return err
	})
	e.in(t, s, func(tx *gorm.DB) error {
		got, err := places.GetPlace(tx, north.ID)
		if err != nil || got != north {
			t.Errorf("GetPlace = %+v, %v; want %+v", got, err, north)
		}
		for _, id := range []string{"", "not-a-uuid", "00000000-0000-0000-0000-000000000000"} {
			if _, err := places.GetPlace(tx, id); !errors.Is(err, places.ErrPlaceNotFound) {
				t.Errorf("GetPlace(%q): want ErrPlaceNotFound, got %v", id, err)
			}
			if _, err := places.UpdatePlace(tx, places.Place{ID: id, Name: "x", Kind: "other"}); !errors.Is(err, places.ErrPlaceNotFound) {
				t.Errorf("UpdatePlace(%q): want ErrPlaceNotFound, got %v", id, err)
			}
			if err := places.DeletePlace(tx, id); !errors.Is(err, places.ErrPlaceNotFound) {
				t.Errorf("DeletePlace(%q): want ErrPlaceNotFound, got %v", id, err)
			}
		}
		for i, name := range []string{"第一食堂", "第二食堂", "清真食堂"} {
			if _, err := places.CreatePlace(tx, places.Place{Name: name, Kind: "canteen", At: places.Point{Lng: 114.36, Lat: 30.53}, Sort: 30 + i}); err != nil {
				return err
			}
		}
		return places.DeletePlace(tx, gate.ID)
	})
	e.in(t, s, func(tx *gorm.DB) error { return places.DeletePlace(tx, gate.ID) }) // disabling twice is fine

	names := func(ps []places.Place) string {
		var out []string
		for _, p := range ps {
			out = append(out, p.Name)
		}
		return strings.Join(out, ",")
	}
	for _, tc := range []struct {
		name  string
		f     places.PlaceFilter
		want  string
		total int64
	}{
		{"students see enabled places in order", places.PlaceFilter{}, "北门(North Gate),第一食堂,第二食堂,清真食堂", 4},
		{"admins see disabled ones too", places.PlaceFilter{IncludeDisabled: true}, "北门(North Gate),南门,第一食堂,第二食堂,清真食堂", 5},
		{"by kind", places.PlaceFilter{Kind: "gate", IncludeDisabled: true}, "北门(North Gate),南门", 2},
		{"search", places.PlaceFilter{Query: "食堂"}, "第一食堂,第二食堂,清真食堂", 3},
		{"search is literal", places.PlaceFilter{Query: "%"}, "", 0},
		{"search ignores case", places.PlaceFilter{Query: "north GATE"}, "北门(North Gate)", 1},
		{"page", places.PlaceFilter{Limit: 2, Offset: 1}, "第一食堂,第二食堂", 4},
		{"past the end", places.PlaceFilter{Offset: 10}, "", 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e.in(t, s, func(tx *gorm.DB) error {
				got, total, err := places.ListPlaces(tx, tc.f)
				if err != nil {
					return err
				}
				if names(got) != tc.want || total != tc.total {
					t.Fatalf("got %s (total %d), want %s (total %d)", names(got), total, tc.want, tc.total)
				}
				return nil
			})
		})
	}
	e.in(t, s, func(tx *gorm.DB) error {
		if _, _, err := places.ListPlaces(tx, places.PlaceFilter{Kind: "castle"}); !errors.Is(err, places.ErrInvalidPlace) {
			t.Errorf("unknown kind filter: want ErrInvalidPlace, got %v", err)
		}
		return nil
	})
}

func TestZones(t *testing.T) {
	e := newEnv(t, "tenant_zones")
	const s = "tenant_zones"
	inside, hole := places.Point{Lng: 0.5, Lat: 0.5}, places.Point{Lng: 1.5, Lat: 1.5}
	var z places.Zone
	e.in(t, s, func(tx *gorm.DB) (err error) {
		for _, bad := range []struct{ name, geo, field string }{
			{"", square, "name"},
			{strings.Repeat("区", 61), square, "name"},
			{"点", `{"type":"Point","coordinates":[0,0]}`, "geometry"},
		} {
			_, err := places.PutZone(tx, bad.name, []byte(bad.geo))
			var ie *places.InvalidError
			if !errors.Is(err, places.ErrInvalidZone) || !errors.As(err, &ie) || ie.Field != bad.field {
				t.Errorf("PutZone(%q, %s): want ErrInvalidZone on %s, got %v", bad.name, bad.geo, bad.field, err)
			}
		}
		if z, err = places.PutZone(tx, "校区", []byte(square)); err != nil {
			return err
		}
		// Putting the same name replaces the shape and keeps the id.
		again, err := places.PutZone(tx, " 校区 ", []byte(withHole))
		if err != nil || again.ID != z.ID {
			t.Errorf("PutZone again = %+v, %v; want the same zone %s", again, err, z.ID)
		}
		return err
	})
	rangeOf := func() (r *places.Range) {
		e.in(t, s, func(tx *gorm.DB) (err error) { r, err = places.LoadRange(tx); return err })
		return r
	}
	if r := rangeOf(); !r.Bounded() || !r.Contains(inside) || r.Contains(hole) {
		t.Fatal("the zone with a hole is not what LoadRange sees")
	}

	e.in(t, s, func(tx *gorm.DB) error {
		fc, err := places.ZonesGeoJSON(tx)
		if err != nil {
			return err
		}
		parsed, err := geojson.UnmarshalFeatureCollection(fc)
		if err != nil || len(parsed.Features) != 1 {
			t.Fatalf("ZonesGeoJSON = %s, %v", fc, err)
		}
		f := parsed.Features[0]
		if f.ID != z.ID || f.Properties.MustString("name", "") != "校区" || f.Properties.MustBool("enabled", false) != true {
			t.Errorf("feature %+v", f)
		}
		var raw struct {
			Features []struct{ Geometry json.RawMessage }
		}
		if err := json.Unmarshal(fc, &raw); err != nil || len(raw.Features) != 1 {
			t.Fatalf("ZonesGeoJSON = %s, %v", fc, err)
		}
		geo := raw.Features[0].Geometry
		if _, err := places.ParseGeometry(geo); err != nil {
			t.Errorf("the map's geometry does not validate: %v", err)
		}
		return places.SetZoneEnabled(tx, z.ID, false)
	})
	if r := rangeOf(); !r.Bounded() || r.Contains(inside) {
		t.Fatal("a disabled zone must not deliver, and the range stays bounded")
	}
	e.in(t, s, func(tx *gorm.DB) error {
		if err := places.DeleteZone(tx, z.ID); err != nil {
			return err
		}
		if err := places.DeleteZone(tx, z.ID); !errors.Is(err, places.ErrZoneNotFound) {
			t.Errorf("delete twice: want ErrZoneNotFound, got %v", err)
		}
		if err := places.SetZoneEnabled(tx, "nope", true); !errors.Is(err, places.ErrZoneNotFound) {
			t.Errorf("SetZoneEnabled(nope): want ErrZoneNotFound, got %v", err)
		}
		return nil
	})
	if r := rangeOf(); r.Bounded() {
		t.Fatal("without zones the range is unbounded")
	}
}

// The tables refuse what the Go validation refuses, as the last line of defence.
func TestDatabaseConstraints(t *testing.T) {
	e := newEnv(t, "tenant_cons")
	e.in(t, "tenant_cons", func(tx *gorm.DB) error {
		return tx.Exec(`INSERT INTO places (name, kind, lng, lat) VALUES ('南门', 'gate', 114, 30)`).Error
	})
	for _, tc := range []struct{ name, sql string }{
		{"unknown kind", `INSERT INTO places (name, kind, lng, lat) VALUES ('a', 'castle', 0, 0)`},
		{"empty name", `INSERT INTO places (name, kind, lng, lat) VALUES ('', 'gate', 0, 0)`},
		{"padded name", `INSERT INTO places (name, kind, lng, lat) VALUES (' a', 'gate', 0, 0)`},
		{"long name", `INSERT INTO places (name, kind, lng, lat) VALUES (repeat('a', 61), 'gate', 0, 0)`},
		{"duplicate name", `INSERT INTO places (name, kind, lng, lat) VALUES ('南门', 'gate', 0, 0)`},
		{"longitude", `INSERT INTO places (name, kind, lng, lat) VALUES ('a', 'gate', 180.1, 0)`},
		{"NaN latitude", `INSERT INTO places (name, kind, lng, lat) VALUES ('a', 'gate', 0, 'NaN')`},
		{"point zone", `INSERT INTO zones (name, geometry) VALUES ('z', '{"type":"Point","coordinates":[0,0]}')`},
		{"zone without type", `INSERT INTO zones (name, geometry) VALUES ('z', '{"coordinates":[]}')`},
		{"zone without coordinates", `INSERT INTO zones (name, geometry) VALUES ('z', '{"type":"Polygon"}')`},
		{"window closes before it opens", `INSERT INTO service_hours VALUES (1, '23:00', '07:30')`},
		{"weekday 7", `INSERT INTO service_hours VALUES (7, '07:00', '08:00')`},
		{"seconds", `INSERT INTO service_hours VALUES (1, '07:00:30', '08:00')`},
		{"long reason", `INSERT INTO closed_dates VALUES ('2025-10-01', repeat('a', 201))`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := e.db.InTenant(t.Context(), store.Schema("tenant_cons"), func(tx *gorm.DB) error { return tx.Exec(tc.sql).Error })
			if err == nil {
				t.Fatal("accepted")
			}
		})
	}
}
