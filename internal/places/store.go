package places

import (
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/paulmach/orb/geojson"
	"gorm.io/gorm"
)

// The functions here take the caller's transaction, opened by store.InTenant, so unqualified
// table names resolve to the tenant's schema. None of them commits. Conflicts are detected
// without a failing statement where possible (ON CONFLICT, a check before the write), so the
// caller's transaction stays usable after a refusal.

type placeRow struct {
	ID      string
	Name    string
	Kind    string
	Lng     float64
	Lat     float64
	Enabled bool
	Sort    int
}

func (r placeRow) place() Place {
	return Place{ID: r.ID, Name: r.Name, Kind: r.Kind, At: Point{Lng: r.Lng, Lat: r.Lat}, Enabled: r.Enabled, Sort: r.Sort}
}

const placeColumns = `id, name, kind, lng, lat, enabled, sort`

// maxQueryLength bounds the name search; longer than any name, it cannot match anything.
const maxQueryLength = 100

// ListPlaces returns one page of places in display order (sort, then name) and how many match
// the filter in all.
func ListPlaces(tx *gorm.DB, f PlaceFilter) ([]Place, int64, error) {
	where, args := []string{"true"}, []any{}
	if !f.IncludeDisabled {
		where = append(where, "enabled")
	}
	if f.Kind != "" {
		if !ValidKind(f.Kind) {
			return nil, 0, invalid(ErrInvalidPlace, "kind", "must be one of %s, got %q", strings.Join(Kinds, ", "), f.Kind)
		}
		where, args = append(where, "kind = ?"), append(args, f.Kind)
	}
	if q := strings.TrimSpace(f.Query); q != "" {
		if utf8.RuneCountInString(q) > maxQueryLength || !utf8.ValidString(q) {
			return nil, 0, invalid(ErrInvalidPlace, "query", "must be valid text of at most %d characters", maxQueryLength)
		}
		// strpos rather than LIKE: the search text needs no escaping of % and _.
		where, args = append(where, "strpos(lower(name), lower(?)) > 0"), append(args, q)
	}
	limit, offset := f.Limit, f.Offset
	if limit <= 0 {
		limit = DefaultLimit
	}
	limit = min(limit, MaxLimit)
	offset = max(offset, 0)
	cond := strings.Join(where, " AND ")

	var total int64
	if err := tx.Raw(`SELECT count(*) FROM places WHERE `+cond, args...).Scan(&total).Error; err != nil {
		return nil, 0, fmt.Errorf("count places: %w", err)
	}
	var rows []placeRow
	err := tx.Raw(`SELECT `+placeColumns+` FROM places WHERE `+cond+` ORDER BY sort, name, id LIMIT ? OFFSET ?`,
		append(args, limit, offset)...).Scan(&rows).Error
	if err != nil {
		return nil, 0, fmt.Errorf("list places: %w", err)
	}
	out := make([]Place, len(rows))
	for i, r := range rows {
		out[i] = r.place()
	}
	return out, total, nil
}

// GetPlace returns the place with id, enabled or not, or ErrPlaceNotFound.
func GetPlace(tx *gorm.DB, id string) (Place, error) {
	uid, ok := parseID(id)
	if !ok {
		return Place{}, ErrPlaceNotFound
	}
	var rows []placeRow
	if err := tx.Raw(`SELECT `+placeColumns+` FROM places WHERE id = ?`, uid).Scan(&rows).Error; err != nil {
		return Place{}, fmt.Errorf("get place %s: %w", uid, err)
	}
	if len(rows) == 0 {
		return Place{}, ErrPlaceNotFound
	}
	return rows[0].place(), nil
}

// CreatePlace adds an enabled place (p.ID and p.Enabled are ignored) and returns it with its
// id. Errors: *InvalidError (ErrInvalidPlace), ErrDuplicatePlace.
func CreatePlace(tx *gorm.DB, p Place) (Place, error) {
	if err := p.normalize(); err != nil {
		return Place{}, err
	}
	var rows []placeRow
	err := tx.Raw(`INSERT INTO places (name, kind, lng, lat, sort) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (name) DO NOTHING RETURNING `+placeColumns,
		p.Name, p.Kind, p.At.Lng, p.At.Lat, p.Sort).Scan(&rows).Error
	if err != nil {
		return Place{}, fmt.Errorf("create place %q: %w", p.Name, err)
	}
	if len(rows) == 0 {
		return Place{}, fmt.Errorf("%w: %q", ErrDuplicatePlace, p.Name)
	}
	return rows[0].place(), nil
}

// UpdatePlace replaces the name, kind, position, enabled flag and sort of the place p.ID.
// Errors: ErrPlaceNotFound, *InvalidError (ErrInvalidPlace), ErrDuplicatePlace.
func UpdatePlace(tx *gorm.DB, p Place) (Place, error) {
	uid, ok := parseID(p.ID)
	if !ok {
		return Place{}, ErrPlaceNotFound
	}
	if err := p.normalize(); err != nil {
		return Place{}, err
	}
	var taken int64
	if err := tx.Raw(`SELECT count(*) FROM places WHERE name = ? AND id <> ?`, p.Name, uid).Scan(&taken).Error; err != nil {
		return Place{}, fmt.Errorf("update place %s: %w", uid, err)
	}
	if taken > 0 {
		return Place{}, fmt.Errorf("%w: %q", ErrDuplicatePlace, p.Name)
	}
	var rows []placeRow
	err := tx.Raw(`UPDATE places SET name = ?, kind = ?, lng = ?, lat = ?, enabled = ?, sort = ?, updated_at = now()
		WHERE id = ? RETURNING `+placeColumns, p.Name, p.Kind, p.At.Lng, p.At.Lat, p.Enabled, p.Sort, uid).Scan(&rows).Error
	if isUniqueViolation(err) { // a concurrent rename took the name after the check above
		return Place{}, fmt.Errorf("%w: %q", ErrDuplicatePlace, p.Name)
	}
	if err != nil {
		return Place{}, fmt.Errorf("update place %s: %w", uid, err)
	}
	if len(rows) == 0 {
		return Place{}, ErrPlaceNotFound
	}
	return rows[0].place(), nil
}

// DeletePlace disables the place: students no longer see it, while orders and reports that
// name it still find it, and an admin may enable it again. Disabling twice is not an error.
func DeletePlace(tx *gorm.DB, id string) error {
	uid, ok := parseID(id)
	if !ok {
		return ErrPlaceNotFound
	}
	res := tx.Exec(`UPDATE places SET enabled = false, updated_at = now() WHERE id = ?`, uid)
	if res.Error != nil {
		return fmt.Errorf("disable place %s: %w", uid, res.Error)
	}
	if res.RowsAffected == 0 {
		return ErrPlaceNotFound
	}
	return nil
}

type zoneRow struct {
	ID       string
	Name     string
	Geometry string
	Enabled  bool
}

// ListZones returns every zone, enabled or not, by name. Stored geometries are read leniently
// (see ParseGeometry for what PutZone accepts).
func ListZones(tx *gorm.DB) ([]Zone, error) {
	var rows []zoneRow
	if err := tx.Raw(`SELECT id, name, geometry, enabled FROM zones ORDER BY name, id`).Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("list zones: %w", err)
	}
	out := make([]Zone, 0, len(rows))
	for _, r := range rows {
		g, err := decodeStored([]byte(r.Geometry))
		if err != nil {
			return nil, fmt.Errorf("zone %q: stored geometry: %w", r.Name, err)
		}
		out = append(out, Zone{ID: r.ID, Name: r.Name, Geometry: g, Enabled: r.Enabled})
	}
	return out, nil
}

// PutZone creates the zone name, enabled, or replaces the geometry of the existing zone of that
// name (keeping its enabled flag), after validating raw with ParseGeometry. Errors:
// *InvalidError (ErrInvalidZone) for the name or the geometry.
func PutZone(tx *gorm.DB, name string, raw []byte) (Zone, error) {
	name = strings.TrimSpace(name)
	if reason := checkName(name); reason != "" {
		return Zone{}, invalid(ErrInvalidZone, "name", "%s", reason)
	}
	g, err := ParseGeometry(raw)
	if err != nil {
		return Zone{}, err
	}
	doc, err := MarshalGeometry(g)
	if err != nil {
		return Zone{}, fmt.Errorf("encode zone %q: %w", name, err)
	}
	var rows []zoneRow
	err = tx.Raw(`INSERT INTO zones (name, geometry) VALUES (?, CAST(? AS jsonb))
		ON CONFLICT (name) DO UPDATE SET geometry = EXCLUDED.geometry, updated_at = now()
		RETURNING id, name, enabled`, name, string(doc)).Scan(&rows).Error
	if err != nil {
		return Zone{}, fmt.Errorf("put zone %q: %w", name, err)
	}
	if len(rows) == 0 {
		return Zone{}, fmt.Errorf("put zone %q: no row returned", name)
	}
	return Zone{ID: rows[0].ID, Name: rows[0].Name, Geometry: g, Enabled: rows[0].Enabled}, nil
}

// SetZoneEnabled turns a zone on or off without losing its shape. Errors: ErrZoneNotFound.
func SetZoneEnabled(tx *gorm.DB, id string, enabled bool) error {
	uid, ok := parseID(id)
	if !ok {
		return ErrZoneNotFound
	}
	res := tx.Exec(`UPDATE zones SET enabled = ?, updated_at = now() WHERE id = ?`, enabled, uid)
	if res.Error != nil {
		return fmt.Errorf("set zone %s enabled: %w", uid, res.Error)
	}
	if res.RowsAffected == 0 {
		return ErrZoneNotFound
	}
	return nil
}

// DeleteZone removes a zone. Orders keep their own coordinates, so nothing refers to a zone and
// it is deleted outright. Errors: ErrZoneNotFound.
func DeleteZone(tx *gorm.DB, id string) error {
	uid, ok := parseID(id)
	if !ok {
		return ErrZoneNotFound
	}
	res := tx.Exec(`DELETE FROM zones WHERE id = ?`, uid)
	if res.Error != nil {
		return fmt.Errorf("delete zone %s: %w", uid, res.Error)
	}
	if res.RowsAffected == 0 {
		return ErrZoneNotFound
	}
	return nil
}

// ZonesGeoJSON returns every zone as a GeoJSON FeatureCollection for the admin map: each
// feature's id is the zone id, its properties are name and enabled.
func ZonesGeoJSON(tx *gorm.DB) ([]byte, error) {
	zones, err := ListZones(tx)
	if err != nil {
		return nil, err
	}
	fc := geojson.NewFeatureCollection()
	for _, z := range zones {
		f := geojson.NewFeature(z.Geometry)
		f.ID = z.ID
		f.Properties["name"] = z.Name
		f.Properties["enabled"] = z.Enabled
		fc.Append(f)
	}
	return fc.MarshalJSON()
}

// LoadRange reads the tenant's zones into a Range for CheckOrder. Load it once per request.
func LoadRange(tx *gorm.DB) (*Range, error) {
	zones, err := ListZones(tx)
	if err != nil {
		return nil, fmt.Errorf("load range: %w", err)
	}
	return NewRange(zones), nil
}

type hourRow struct {
	Weekday int
	Opens   int
	Closes  int
}

type closedRow struct {
	Date   string
	Reason string
}

// LoadHours reads the weekly hours, every closed date and the tenant's time zone (settings key
// timezone, a JSON string; DefaultTimezone when absent). A time zone the tz database does not
// know is an error rather than a silent fallback: hours read in the wrong zone would refuse
// orders at the wrong times.
func LoadHours(tx *gorm.DB) (*Hours, error) {
	var tz []string
	if err := tx.Raw(`SELECT value #>> '{}' FROM settings WHERE key = 'timezone'`).Scan(&tz).Error; err != nil {
		return nil, fmt.Errorf("load timezone: %w", err)
	}
	h := &Hours{Loc: shanghai(), Week: map[time.Weekday][]Window{}, Closed: map[string]string{}}
	if len(tz) > 0 && tz[0] != "" {
		loc, err := loadLocation(tz[0])
		if err != nil {
			return nil, fmt.Errorf("settings timezone %q: %w", tz[0], err)
		}
		h.Loc = loc
	}
	var rows []hourRow
	err := tx.Raw(`SELECT weekday, (extract(epoch FROM opens) / 60)::int AS opens, (extract(epoch FROM closes) / 60)::int AS closes
		FROM service_hours ORDER BY weekday, opens`).Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("load service hours: %w", err)
	}
	for _, r := range rows {
		wd := time.Weekday(r.Weekday)
		h.Week[wd] = append(h.Week[wd], Window{Opens: r.Opens, Closes: r.Closes})
	}
	var closed []closedRow
	if err := tx.Raw(`SELECT to_char(date, 'YYYY-MM-DD') AS date, reason FROM closed_dates`).Scan(&closed).Error; err != nil {
		return nil, fmt.Errorf("load closed dates: %w", err)
	}
	for _, c := range closed {
		h.Closed[c.Date] = c.Reason
	}
	return h, nil
}

// PutHours replaces the weekly hours with week (weekday -> windows). Windows of a day may
// touch but not overlap. An empty week lifts the hours limit altogether (see Hours.Open); to
// stop service for a day, add a closed date. Errors: *InvalidError (ErrInvalidHours).
func PutHours(tx *gorm.DB, week map[time.Weekday][]Window) error {
	copied := make(map[time.Weekday][]Window, len(week))
	for wd, ws := range week {
		copied[wd] = append([]Window(nil), ws...)
	}
	if err := checkWeek(copied); err != nil {
		return err
	}
	if err := tx.Exec(`DELETE FROM service_hours`).Error; err != nil {
		return fmt.Errorf("replace service hours: %w", err)
	}
	return insertWeek(tx, copied)
}

func insertWeek(tx *gorm.DB, week map[time.Weekday][]Window) error {
	for wd, ws := range week {
		for _, w := range ws {
			err := tx.Exec(`INSERT INTO service_hours (weekday, opens, closes) VALUES (?, CAST(? AS time), CAST(? AS time))
				ON CONFLICT DO NOTHING`, int(wd), clock(w.Opens), clock(w.Closes)).Error
			if err != nil {
				return fmt.Errorf("insert service hours %s %s: %w", wd, w, err)
			}
		}
	}
	return nil
}

func clock(m int) string { return fmt.Sprintf("%02d:%02d", m/60, m%60) }

// maxReasonLength bounds a closed date's reason, in characters.
const maxReasonLength = 200

// AddClosedDate closes the local date day ("2006-01-02") with a reason students see, or
// replaces the reason if the date is already closed. Errors: *InvalidError (ErrInvalidHours).
func AddClosedDate(tx *gorm.DB, day, reason string) error {
	d, err := time.Parse(time.DateOnly, day)
	if err != nil {
		return invalid(ErrInvalidHours, "date", "must be a date like 2025-10-01")
	}
	reason = strings.TrimSpace(reason)
	if !utf8.ValidString(reason) || utf8.RuneCountInString(reason) > maxReasonLength || strings.IndexFunc(reason, unicode.IsControl) >= 0 {
		return invalid(ErrInvalidHours, "reason", "must be at most %d characters without control characters", maxReasonLength)
	}
	err = tx.Exec(`INSERT INTO closed_dates (date, reason) VALUES (CAST(? AS date), ?)
		ON CONFLICT (date) DO UPDATE SET reason = EXCLUDED.reason`, d.Format(time.DateOnly), reason).Error
	if err != nil {
		return fmt.Errorf("close %s: %w", day, err)
	}
	return nil
}

// RemoveClosedDate reopens day ("2006-01-02"). Errors: ErrClosedDateNotFound.
func RemoveClosedDate(tx *gorm.DB, day string) error {
	d, err := time.Parse(time.DateOnly, day)
	if err != nil {
		return ErrClosedDateNotFound
	}
	res := tx.Exec(`DELETE FROM closed_dates WHERE date = CAST(? AS date)`, d.Format(time.DateOnly))
	if res.Error != nil {
		return fmt.Errorf("reopen %s: %w", day, res.Error)
	}
	if res.RowsAffected == 0 {
		return ErrClosedDateNotFound
	}
	return nil
}

// parseID canonicalizes a uuid, so a malformed id is "not found" instead of an SQL error that
// would abort the caller's transaction.
func parseID(id string) (string, bool) {
	u, err := uuid.Parse(id)
	if err != nil {
		return "", false
	}
	return u.String(), true
}

func isUniqueViolation(err error) bool {
	var pe *pgconn.PgError
	return errors.Is(err, gorm.ErrDuplicatedKey) || errors.As(err, &pe) && pe.Code == "23505"
}
