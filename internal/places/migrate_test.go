package places_test

import (
	"context"
	"io/fs"
	"reflect"
	"testing"
	"testing/fstest"
	"time"

	"gorm.io/gorm"

	"github.com/paotui/paotui/internal/places"
	"github.com/paotui/paotui/internal/store"
	"github.com/paotui/paotui/internal/store/storetest"
	"github.com/paotui/paotui/migrations"
)

// Tenants provisioned before migration 00002 keep their blueprint's places, zones and hours as
// settings rows; migrating them fills the new tables with the same content SeedFromBlueprint
// gives a new tenant. Malformed documents are skipped, never fatal, and a tenant without these
// settings gets empty tables.
func TestMigrationBackfillsFromSettings(t *testing.T) {
	ctx := context.Background()
	db, d := storetest.New(t)
	e := &env{db: db, url: d.URL}
	first, err := fs.ReadFile(migrations.Tenant(), "00001_create_users.sql")
	if err != nil {
		t.Fatal(err)
	}
	v1 := store.NewMigrator(d.URL, 4, nil).WithTenantFS(fstest.MapFS{"00001_create_users.sql": {Data: first}})
	latest := store.NewMigrator(d.URL, 4, nil)
	schemas := []string{"tenant_old", "tenant_bare", "tenant_junk"}
	for _, s := range schemas {
		if _, to, err := v1.UpTenant(ctx, s); err != nil || to != 1 {
			t.Fatalf("%s: migrated to %d, %v; want version 1", s, to, err)
		}
	}
	demo := loadBlueprint(t, "demo")
	e.putSettings(t, "tenant_old", demo)
	e.in(t, "tenant_junk", func(tx *gorm.DB) error {
		return tx.Exec(`INSERT INTO settings (key, value) VALUES
			('places', '[{"name":" 南门 ","kind":"castle","at":[114.365,30.5297]}, 5, {"name":"远方","kind":"dorm","at":[200,0]},
			             {"name":"","kind":"dorm","at":[1,2]}, {"name":"无坐标","kind":"gym"}, {"name":"大数","kind":"gym","at":[1e400,1]},
			             {"name":"南门","kind":"gate","at":[0,0]}]'),
			('zones', '"not an array"'),
			('service_hours', '{"mon":["07:30-23:00","bad",7],"xyz":["01:00-02:00"],"tue":"x","wed":["09:00-08:00"],"sat":["22:00-24:00"]}')`).Error
	})
	for _, s := range schemas {
		if _, _, err := latest.UpTenant(ctx, s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}

	type snapshot struct {
		Places []places.Place
		Zones  []string
		Week   map[time.Weekday][]places.Window
	}
	snap := func(schema string) (out snapshot) {
		e.in(t, schema, func(tx *gorm.DB) error {
			ps, _, err := places.ListPlaces(tx, places.PlaceFilter{IncludeDisabled: true})
			if err != nil {
				return err
			}
			for _, p := range ps {
				p.ID = ""
				out.Places = append(out.Places, p)
			}
			zs, err := places.ListZones(tx)
			if err != nil {
				return err
			}
			for _, z := range zs {
				doc, err := places.MarshalGeometry(z.Geometry)
				if err != nil {
					return err
				}
				out.Zones = append(out.Zones, z.Name+" "+string(doc))
			}
			h, err := places.LoadHours(tx)
			out.Week = h.Week
			return err
		})
		return out
	}

	// The backfilled tenant matches a tenant seeded from the same blueprint after the migration.
	if _, _, err := latest.UpTenant(ctx, "tenant_new"); err != nil {
		t.Fatal(err)
	}
	e.in(t, "tenant_new", func(tx *gorm.DB) error { return places.SeedFromBlueprint(tx, demo) })
	old, seeded := snap("tenant_old"), snap("tenant_new")
	if len(old.Places) != 20 || len(old.Zones) != 1 || len(old.Week) != 7 {
		t.Fatalf("backfilled %d places, %d zones, %d weekdays; want 20, 1, 7", len(old.Places), len(old.Zones), len(old.Week))
	}
	if !reflect.DeepEqual(old, seeded) {
		t.Fatalf("backfill and seeding differ:\nbackfill %+v\nseeded   %+v", old, seeded)
	}
	var r *places.Range
	e.in(t, "tenant_old", func(tx *gorm.DB) (err error) { r, err = places.LoadRange(tx); return err })
	for _, p := range old.Places {
		if !r.Contains(p.At) {
			t.Errorf("backfilled %s is outside the backfilled zone", p.Name)
		}
	}

	if bare := snap("tenant_bare"); len(bare.Places)+len(bare.Zones)+len(bare.Week) != 0 {
		t.Fatalf("a tenant without settings got %+v", bare)
	}

	junk := snap("tenant_junk")
	wantPlaces := []places.Place{{Name: "南门", Kind: "other", At: places.Point{Lng: 114.365, Lat: 30.5297}, Enabled: true, Sort: 10}}
	wantWeek := map[time.Weekday][]places.Window{
		time.Monday:   {{Opens: 450, Closes: 1380}},
		time.Saturday: {{Opens: 1320, Closes: 1440}},
	}
	if !reflect.DeepEqual(junk.Places, wantPlaces) || len(junk.Zones) != 0 || !reflect.DeepEqual(junk.Week, wantWeek) {
		t.Fatalf("malformed settings backfilled as %+v", junk)
	}
}
