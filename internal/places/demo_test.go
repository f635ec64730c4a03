package places_test

import (
	"testing"

	"gorm.io/gorm"

	"github.com/paotui/paotui/internal/places"
)

// The shipped demo campus, seeded into a fresh tenant: every named place is inside the delivery
// zone, the point in the zone's notch and the far one are not.
func TestDemoCampus(t *testing.T) {
	e := newEnv(t, "tenant_demo")
	bp := loadBlueprint(t, "demo")
	e.in(t, "tenant_demo", func(tx *gorm.DB) error { return places.SeedFromBlueprint(tx, bp) })

	var list []places.Place
	var total int64
	var r *places.Range
	e.in(t, "tenant_demo", func(tx *gorm.DB) (err error) {
		if list, total, err = places.ListPlaces(tx, places.PlaceFilter{}); err != nil {
			return err
		}
		r, err = places.LoadRange(tx)
		return err
	})
	if total != 20 || len(list) != 20 {
		t.Fatalf("want the 20 demo places, got %d (total %d)", len(list), total)
	}
	if !r.Bounded() {
		t.Fatal("the demo campus has a zone, so its range is bounded")
	}
	for i, p := range list {
		if p.Name != bp.Places[i].Name || p.Sort != (i+1)*10 || !p.Enabled {
			t.Errorf("place %d = %+v, want %s in blueprint order, enabled", i, p, bp.Places[i].Name)
		}
		if !r.Contains(p.At) {
			t.Errorf("%s %v is outside the demo zone", p.Name, p.At)
		}
	}
	for name, p := range outsidePoints(t) {
		if r.Contains(p) {
			t.Errorf("%s %v should be outside the demo zone", name, p)
		}
	}
}

// Provisioning may run again after a failure; seeding twice must not duplicate anything, and
// seeding never overwrites what an admin changed since.
func TestSeedFromBlueprintIsIdempotent(t *testing.T) {
	e := newEnv(t, "tenant_seed", "tenant_dflt")
	bp := loadBlueprint(t, "demo")
	counts := func(schema string) (n [4]int64) {
		e.in(t, schema, func(tx *gorm.DB) error {
			for i, table := range []string{"places", "zones", "service_hours", "closed_dates"} {
				if err := tx.Raw(`SELECT count(*) FROM ` + table).Scan(&n[i]).Error; err != nil {
					return err
				}
			}
			return nil
		})
		return n
	}
	e.in(t, "tenant_seed", func(tx *gorm.DB) error { return places.SeedFromBlueprint(tx, bp) })
	first := counts("tenant_seed")
	if first != [4]int64{20, 1, 7, 0} {
		t.Fatalf("after one seed: places, zones, hours, closed = %v, want [20 1 7 0]", first)
	}
	var renamed places.Place
	e.in(t, "tenant_seed", func(tx *gorm.DB) error {
		list, _, err := places.ListPlaces(tx, places.PlaceFilter{Limit: 1})
		if err != nil {
			return err
		}
		list[0].Name = "改名后的宿舍"
		renamed, err = places.UpdatePlace(tx, list[0])
		return err
	})
	e.in(t, "tenant_seed", func(tx *gorm.DB) error { return places.SeedFromBlueprint(tx, bp) })
	if again := counts("tenant_seed"); again != first {
		t.Fatalf("second seed changed counts from %v to %v", first, again)
	}
	e.in(t, "tenant_seed", func(tx *gorm.DB) error {
		got, err := places.GetPlace(tx, renamed.ID)
		if err == nil && got.Name != renamed.Name {
			t.Errorf("seeding again undid the admin's rename: %q", got.Name)
		}
		return err
	})

	// The default blueprint has hours but no places or zones.
	dflt := loadBlueprint(t, "default")
	for range 2 {
		e.in(t, "tenant_dflt", func(tx *gorm.DB) error { return places.SeedFromBlueprint(tx, dflt) })
	}
	if got := counts("tenant_dflt"); got != [4]int64{0, 0, 7, 0} {
		t.Fatalf("default blueprint: places, zones, hours, closed = %v, want [0 0 7 0]", got)
	}
}

// BenchmarkContains measures the range check an order makes twice, on the demo zone: a point
// inside, one in the notch (inside the zone's bounding box, so the polygon test runs) and one
// far away (refused by the bounding box alone: the baseline).
func BenchmarkContains(b *testing.B) {
	r := demoRange(b)
	out := outsidePoints(b)
	bp := loadBlueprint(b, "demo")
	for _, bc := range []struct {
		name string
		p    places.Point
		want bool
	}{
		{"inside", bpPoint(bp.Places[0]), true},
		{"notch", out[notchPoint], false},
		{"far", out[farPoint], false},
	} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				if r.Contains(bc.p) != bc.want {
					b.Fatal("wrong answer")
				}
			}
		})
	}
}
