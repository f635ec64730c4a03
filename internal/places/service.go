package places

import (
	"context"
	"strings"

	"gorm.io/gorm"

	"github.com/paotui/paotui/internal/audit"
	"github.com/paotui/paotui/internal/store"
)

// Service runs the tenant admin's settings of places, delivery zones, service hours and closed
// dates. Each change is one tenant transaction holding the change and its audit entry (by names
// the actor and IP; the service fills in the action and target), so no change goes unrecorded
// and no entry describes a change that rolled back. Errors are the package's sentinels and
// *InvalidError values.
type Service struct {
	db *store.DB
}

// NewService returns the places service over db.
func NewService(db *store.DB) *Service { return &Service{db: db} }

func (s *Service) change(ctx context.Context, t store.Scope, by audit.Entry, action string, fn func(tx *gorm.DB) (target string, err error)) error {
	return s.db.InTenant(ctx, t, func(tx *gorm.DB) error {
		target, err := fn(tx)
		if err != nil {
			return err
		}
		by.Action, by.Target = action, target
		return audit.Record(tx, by)
	})
}

// ListPlaces returns one page of places matching f and how many match in all.
func (s *Service) ListPlaces(ctx context.Context, t store.Scope, f PlaceFilter) ([]Place, int64, error) {
	var (
		items []Place
		total int64
	)
	err := s.db.InTenant(ctx, t, func(tx *gorm.DB) error {
		var err error
		items, total, err = ListPlaces(tx, f)
		return err
	})
	return items, total, err
}

// CreatePlace adds an enabled place. Errors: *InvalidError (ErrInvalidPlace), ErrDuplicatePlace.
func (s *Service) CreatePlace(ctx context.Context, t store.Scope, p Place, by audit.Entry) (Place, error) {
	var out Place
	err := s.change(ctx, t, by, "settings.place.create", func(tx *gorm.DB) (string, error) {
		var err error
		out, err = CreatePlace(tx, p)
		return "place:" + out.ID, err
	})
	if err != nil {
		return Place{}, err
	}
	return out, nil
}

// UpdatePlace replaces the place p.ID. Errors: ErrPlaceNotFound, *InvalidError
// (ErrInvalidPlace), ErrDuplicatePlace.
func (s *Service) UpdatePlace(ctx context.Context, t store.Scope, p Place, by audit.Entry) (Place, error) {
	var out Place
	err := s.change(ctx, t, by, "settings.place.update", func(tx *gorm.DB) (string, error) {
		var err error
		out, err = UpdatePlace(tx, p)
		return "place:" + out.ID, err
	})
	if err != nil {
		return Place{}, err
	}
	return out, nil
}

// DeletePlace disables the place id (see DeletePlace). Errors: ErrPlaceNotFound.
func (s *Service) DeletePlace(ctx context.Context, t store.Scope, id string, by audit.Entry) error {
	return s.change(ctx, t, by, "settings.place.delete", func(tx *gorm.DB) (string, error) {
		if err := DeletePlace(tx, id); err != nil {
			return "", err
		}
		uid, _ := parseID(id)
		return "place:" + uid, nil
	})
}

// Zones returns every zone, enabled or not, by name.
func (s *Service) Zones(ctx context.Context, t store.Scope) ([]Zone, error) {
	var out []Zone
	err := s.db.InTenant(ctx, t, func(tx *gorm.DB) error {
		var err error
		out, err = ListZones(tx)
		return err
	})
	return out, err
}

// PutZone creates the zone name or replaces its geometry with the GeoJSON raw. Errors:
// *InvalidError (ErrInvalidZone).
func (s *Service) PutZone(ctx context.Context, t store.Scope, name string, raw []byte, by audit.Entry) (Zone, error) {
	var out Zone
	err := s.change(ctx, t, by, "settings.zone.put", func(tx *gorm.DB) (string, error) {
		var err error
		out, err = PutZone(tx, name, raw)
		return "zone:" + out.ID, err
	})
	if err != nil {
		return Zone{}, err
	}
	return out, nil
}

// SetZoneEnabled turns the zone name on or off and returns it. Errors: ErrZoneNotFound.
func (s *Service) SetZoneEnabled(ctx context.Context, t store.Scope, name string, enabled bool, by audit.Entry) (Zone, error) {
	action := "settings.zone.disable"
	if enabled {
		action = "settings.zone.enable"
	}
	var out Zone
	err := s.change(ctx, t, by, action, func(tx *gorm.DB) (string, error) {
		z, err := zoneNamed(tx, name)
		if err != nil {
			return "", err
		}
		if err := SetZoneEnabled(tx, z.ID, enabled); err != nil {
			return "", err
		}
		z.Enabled = enabled
		out = z
		return "zone:" + z.ID, nil
	})
	if err != nil {
		return Zone{}, err
	}
	return out, nil
}

// DeleteZone removes the zone name. Errors: ErrZoneNotFound.
func (s *Service) DeleteZone(ctx context.Context, t store.Scope, name string, by audit.Entry) error {
	return s.change(ctx, t, by, "settings.zone.delete", func(tx *gorm.DB) (string, error) {
		z, err := zoneNamed(tx, name)
		if err != nil {
			return "", err
		}
		return "zone:" + z.ID, DeleteZone(tx, z.ID)
	})
}

// zoneNamed finds a zone by its name (unique per tenant), as PutZone trims it. A tenant has a
// few zones, so they are all read.
func zoneNamed(tx *gorm.DB, name string) (Zone, error) {
	name = strings.TrimSpace(name)
	zones, err := ListZones(tx)
	if err != nil {
		return Zone{}, err
	}
	for _, z := range zones {
		if z.Name == name {
			return z, nil
		}
	}
	return Zone{}, ErrZoneNotFound
}

// Hours returns the weekly hours, closed dates and time zone.
func (s *Service) Hours(ctx context.Context, t store.Scope) (*Hours, error) {
	var h *Hours
	err := s.db.InTenant(ctx, t, func(tx *gorm.DB) error {
		var err error
		h, err = LoadHours(tx)
		return err
	})
	return h, err
}

// PutHours replaces the weekly hours with days in the blueprint's shape (mon..sun ->
// "HH:MM-HH:MM" windows) and returns the hours as they now are. An empty week lifts the hours
// limit (see Hours.Open). Errors: *InvalidError (ErrInvalidHours).
func (s *Service) PutHours(ctx context.Context, t store.Scope, days map[string][]string, by audit.Entry) (*Hours, error) {
	week, err := ParseWeek(days)
	if err != nil {
		return nil, err
	}
	var h *Hours
	err = s.change(ctx, t, by, "settings.service_hours.put", func(tx *gorm.DB) (string, error) {
		if err := PutHours(tx, week); err != nil {
			return "", err
		}
		var err error
		h, err = LoadHours(tx)
		return "service_hours", err
	})
	if err != nil {
		return nil, err
	}
	return h, nil
}

// AddClosedDate closes day ("2006-01-02") with reason, or replaces the reason, and returns the
// hours as they now are. Errors: *InvalidError (ErrInvalidHours).
func (s *Service) AddClosedDate(ctx context.Context, t store.Scope, day, reason string, by audit.Entry) (*Hours, error) {
	var h *Hours
	err := s.change(ctx, t, by, "settings.closed_date.add", func(tx *gorm.DB) (string, error) {
		if err := AddClosedDate(tx, day, reason); err != nil {
			return "", err
		}
		var err error
		h, err = LoadHours(tx)
		return "closed_date:" + day, err
	})
	if err != nil {
		return nil, err
	}
	return h, nil
}

// RemoveClosedDate reopens day. Errors: ErrClosedDateNotFound.
func (s *Service) RemoveClosedDate(ctx context.Context, t store.Scope, day string, by audit.Entry) error {
	return s.change(ctx, t, by, "settings.closed_date.remove", func(tx *gorm.DB) (string, error) {
		return "closed_date:" + day, RemoveClosedDate(tx, day)
	})
}
