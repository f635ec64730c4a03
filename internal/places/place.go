package places

import (
	"fmt"
	"math"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Point is a WGS 84 position in degrees, longitude first as in GeoJSON.
type Point struct {
	Lng float64 `json:"lng"`
	Lat float64 `json:"lat"`
}

// Valid reports whether p is a finite longitude in [-180, 180] and latitude in [-90, 90].
func (p Point) Valid() bool {
	return !math.IsNaN(p.Lng) && !math.IsNaN(p.Lat) &&
		p.Lng >= -180 && p.Lng <= 180 && p.Lat >= -90 && p.Lat <= 90
}

// Place is a named campus point students pick as pickup or drop-off. Sort orders the picker
// (ascending, then by name).
type Place struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	Kind    string `json:"kind"`
	At      Point  `json:"at"`
	Enabled bool   `json:"enabled"`
	Sort    int    `json:"sort"`
}

// Kinds are the place kinds, in the order the student app groups them. The list is also a
// CHECK in the places table; adding a kind takes a migration.
var Kinds = []string{"dorm", "canteen", "parcel_station", "library", "teaching", "clinic", "shop",
	"gate", "gym", "office", "other"}

// ValidKind reports whether k is one of Kinds.
func ValidKind(k string) bool {
	for _, x := range Kinds {
		if x == k {
			return true
		}
	}
	return false
}

const (
	// MaxNameLength is the longest place or zone name, in characters.
	MaxNameLength = 60
	// maxSort bounds Sort well inside the integer column.
	maxSort = 1_000_000
)

// PlaceFilter selects places for ListPlaces. Zero values mean: every kind, no search, enabled
// places only, the first DefaultLimit places.
type PlaceFilter struct {
	Kind            string // one of Kinds, or "" for all
	Query           string // case-insensitive substring of the name
	IncludeDisabled bool   // the admin list shows disabled places too
	Limit, Offset   int    // Limit 0 means DefaultLimit; at most MaxLimit
}

const (
	// DefaultLimit is ListPlaces' page size when the filter gives none: every place of a
	// typical campus fits in one page, so the student picker needs a single request.
	DefaultLimit = 200
	// MaxLimit is the largest page ListPlaces returns.
	MaxLimit = 500
)

// normalize trims the name and checks p; it returns the first problem found.
func (p *Place) normalize() error {
	p.Name = strings.TrimSpace(p.Name)
	if reason := checkName(p.Name); reason != "" {
		return invalid(ErrInvalidPlace, "name", "%s", reason)
	}
	if !ValidKind(p.Kind) {
		return invalid(ErrInvalidPlace, "kind", "must be one of %s, got %q", strings.Join(Kinds, ", "), p.Kind)
	}
	if math.IsNaN(p.At.Lng) || p.At.Lng < -180 || p.At.Lng > 180 {
		return invalid(ErrInvalidPlace, "at.lng", "longitude must be within -180..180")
	}
	if math.IsNaN(p.At.Lat) || p.At.Lat < -90 || p.At.Lat > 90 {
		return invalid(ErrInvalidPlace, "at.lat", "latitude must be within -90..90")
	}
	if p.Sort < -maxSort || p.Sort > maxSort {
		return invalid(ErrInvalidPlace, "sort", "must be within -%d..%d", maxSort, maxSort)
	}
	return nil
}

// checkName returns why name (already trimmed) is not a valid place or zone name, or "".
func checkName(name string) string {
	if !utf8.ValidString(name) {
		return "must be valid UTF-8"
	}
	n := utf8.RuneCountInString(name)
	if n < 1 || n > MaxNameLength {
		return fmt.Sprintf("must be 1 to %d characters", MaxNameLength)
	}
	for _, r := range name {
		if unicode.IsControl(r) {
			return "must not contain control characters"
		}
	}
	return ""
}
