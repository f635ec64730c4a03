package places_test

import (
	"context"
	"encoding/json"
	"io/fs"
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"
	"gorm.io/gorm"

	"github.com/paotui/paotui/internal/blueprint"
	"github.com/paotui/paotui/internal/places"
	"github.com/paotui/paotui/internal/store"
	"github.com/paotui/paotui/internal/store/storetest"
	"github.com/paotui/paotui/tenants"
)

// env is one test's database with tenant schemas migrated to the latest version.
type env struct {
	db  *store.DB
	url string
}

func newEnv(t *testing.T, schemas ...string) *env {
	t.Helper()
	db, d := storetest.New(t)
	m := store.NewMigrator(d.URL, 4, nil)
	for _, s := range schemas {
		if _, _, err := m.UpTenant(context.Background(), s); err != nil {
			t.Fatal(err)
		}
	}
	return &env{db: db, url: d.URL}
}

// in runs fn in a tenant transaction and fails the test on error.
func (e *env) in(t testing.TB, schema string, fn func(tx *gorm.DB) error) {
	t.Helper()
	if err := e.db.InTenant(context.Background(), store.Schema(schema), fn); err != nil {
		t.Fatal(err)
	}
}

// putSettings writes the blueprint's settings rows exactly as provisioning does.
func (e *env) putSettings(t testing.TB, schema string, bp *blueprint.Blueprint) {
	t.Helper()
	e.in(t, schema, func(tx *gorm.DB) error {
		for key, v := range bp.Settings() {
			doc, err := json.Marshal(v)
			if err != nil {
				return err
			}
			if err := tx.Exec(`INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING`, key, string(doc)).Error; err != nil {
				return err
			}
		}
		return nil
	})
}

func loadBlueprint(t testing.TB, name string) *blueprint.Blueprint {
	t.Helper()
	bp, err := blueprint.Load(name)
	if err != nil {
		t.Fatal(err)
	}
	return bp
}

// outsidePoints reads the demo campus's test fixtures (kind "outside"), which the blueprint
// skips: one in the zone's notch and one far away, keyed by name.
func outsidePoints(t testing.TB) map[string]places.Point {
	t.Helper()
	raw, err := fs.ReadFile(tenants.FS, "demo/campus.geojson")
	if err != nil {
		t.Fatal(err)
	}
	fc, err := geojson.UnmarshalFeatureCollection(raw)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]places.Point{}
	for _, f := range fc.Features {
		if f.Properties.MustString("kind", "") != "outside" {
			continue
		}
		p := f.Geometry.(orb.Point)
		out[f.Properties.MustString("name", "")] = places.Point{Lng: p.Lon(), Lat: p.Lat()}
	}
	if len(out) != 2 {
		t.Fatalf("want 2 outside points in demo/campus.geojson, got %d", len(out))
	}
	return out
}

// Names of the two outside fixtures in tenants/demo/campus.geojson.
const (
	notchPoint = "校外小区(范围外)"
	farPoint   = "市中心(远在范围外)"
)

// demoRange builds the demo campus's range without a database.
func demoRange(t testing.TB) *places.Range {
	t.Helper()
	bp := loadBlueprint(t, "demo")
	var zones []places.Zone
	for _, z := range bp.Zones {
		g, err := places.ParseGeometry(z.Geometry)
		if err != nil {
			t.Fatal(err)
		}
		zones = append(zones, places.Zone{Name: z.Name, Geometry: g, Enabled: true})
	}
	return places.NewRange(zones)
}

func bpPoint(p blueprint.Place) places.Point { return places.Point{Lng: p.At[0], Lat: p.At[1]} }
