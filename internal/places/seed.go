package places

import (
	"fmt"

	"gorm.io/gorm"

	"github.com/paotui/paotui/internal/blueprint"
)

// SeedFromBlueprint fills a new tenant's places, zones and weekly hours from its blueprint.
// Provisioning calls it inside the tenant transaction, after the migrations. Each table is
// seeded only while it is empty, so running it again (a retried provisioning, or a tenant the
// migration already backfilled) changes nothing and never undoes an admin's edits.
//
// Unlike the migration's backfill, which skips what it cannot store so that no tenant's
// migration fails, a bad entry here is an error naming the entry: a blueprint can be fixed.
func SeedFromBlueprint(tx *gorm.DB, bp *blueprint.Blueprint) error {
	empty := func(table string) (bool, error) {
		var n int64
		if err := tx.Raw(`SELECT count(*) FROM (SELECT 1 FROM ` + table + ` LIMIT 1) t`).Scan(&n).Error; err != nil {
			return false, fmt.Errorf("seed %s: %w", table, err)
		}
		return n == 0, nil
	}

	if ok, err := empty("places"); err != nil {
		return err
	} else if ok {
		for i, bpp := range bp.Places {
			p := Place{Name: bpp.Name, Kind: bpp.Kind, At: Point{Lng: bpp.At[0], Lat: bpp.At[1]}, Sort: (i + 1) * 10}
			if err := p.normalize(); err != nil {
				return fmt.Errorf("blueprint place %d (%s): %w", i, bpp.Name, err)
			}
			err := tx.Exec(`INSERT INTO places (name, kind, lng, lat, sort) VALUES (?, ?, ?, ?, ?) ON CONFLICT (name) DO NOTHING`,
				p.Name, p.Kind, p.At.Lng, p.At.Lat, p.Sort).Error
			if err != nil {
				return fmt.Errorf("seed place %s: %w", p.Name, err)
			}
		}
	}

	if ok, err := empty("zones"); err != nil {
		return err
	} else if ok {
		for i, z := range bp.Zones {
			if _, err := PutZone(tx, z.Name, z.Geometry); err != nil {
				return fmt.Errorf("blueprint zone %d (%s): %w", i, z.Name, err)
			}
		}
	}

	if ok, err := empty("service_hours"); err != nil {
		return err
	} else if ok {
		week, err := ParseWeek(bp.ServiceHours)
		if err != nil {
			return fmt.Errorf("blueprint service_hours: %w", err)
		}
		if err := insertWeek(tx, week); err != nil {
			return err
		}
	}
	return nil
}
