package blueprint

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"strings"
	"time"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"
	"gopkg.in/yaml.v3"

	"github.com/paotui/paotui/tenants"
)

// Text is a string in both UI languages.
type Text struct {
	ZH string `yaml:"zh" json:"zh"`
	EN string `yaml:"en" json:"en"`
}

// Blueprint is a validated tenant template.
type Blueprint struct {
	Name          string                    `yaml:"-" json:"-"`
	Extends       string                    `yaml:"extends" json:"-"`
	Timezone      string                    `yaml:"timezone" json:"timezone"`
	Branding      Branding                  `yaml:"branding" json:"branding"`
	ServiceHours  map[string][]string       `yaml:"service_hours" json:"serviceHours"`
	Commission    Commission                `yaml:"commission" json:"commission"`
	Dispatch      Dispatch                  `yaml:"dispatch" json:"dispatch"`
	Orders        OrderRules                `yaml:"orders" json:"orders"`
	TaskTypes     []TaskType                `yaml:"task_types" json:"taskTypes"`
	Surcharges    []Surcharge               `yaml:"surcharges" json:"surcharges"`
	Roles         []Role                    `yaml:"roles" json:"roles"`
	Notifications map[string]Text           `yaml:"notifications" json:"notifications"`
	CampusGeoJSON string                    `yaml:"campus_geojson" json:"-"`
	Accounts      []Account                 `yaml:"accounts" json:"-"`
	Places        []Place                   `yaml:"-" json:"places,omitempty"`
	Zones         []Zone                    `yaml:"-" json:"zones,omitempty"`
	Extra         map[string]map[string]any `yaml:"-" json:"-"`
}

type Branding struct {
	PrimaryColor string `yaml:"primary_color" json:"primaryColor"`
	AccentColor  string `yaml:"accent_color" json:"accentColor"`
	LogoURL      string `yaml:"logo_url" json:"logoUrl,omitempty"`
	ServicePhone string `yaml:"service_phone" json:"servicePhone"`
	Announcement string `yaml:"announcement" json:"announcement"`
}

type Commission struct {
	CourierShareBP int `yaml:"courier_share_bp" json:"courierShareBp"`
}

type Dispatch struct {
	Mode         string   `yaml:"mode" json:"mode"`
	GrabWindow   Duration `yaml:"grab_window" json:"grabWindow"`
	OfferTimeout Duration `yaml:"offer_timeout" json:"offerTimeout"`
}

type OrderRules struct {
	PaymentTimeout   Duration `yaml:"payment_timeout" json:"paymentTimeout"`
	AutoConfirmAfter Duration `yaml:"auto_confirm_after" json:"autoConfirmAfter"`
	FreeCancelUntil  string   `yaml:"free_cancel_until" json:"freeCancelUntil"`
}

type TaskType struct {
	Key     string  `yaml:"key" json:"key"`
	Name    Text    `yaml:"name" json:"name"`
	Enabled *bool   `yaml:"enabled" json:"enabled"`
	Fields  []Field `yaml:"fields" json:"fields"`
	Pricing Pricing `yaml:"pricing" json:"pricing"`
}

type Field struct {
	Key      string   `yaml:"key" json:"key"`
	Label    Text     `yaml:"label" json:"label"`
	Type     string   `yaml:"type" json:"type"`
	Required bool     `yaml:"required" json:"required"`
	Min      *int64   `yaml:"min" json:"min,omitempty"`
	Max      *int64   `yaml:"max" json:"max,omitempty"`
	Options  []string `yaml:"options" json:"options,omitempty"`
}

// Pricing amounts are 分.
type Pricing struct {
	BaseFee        int64            `yaml:"base_fee" json:"baseFee"`
	IncludedMeters int64            `yaml:"included_meters" json:"includedMeters"`
	PerKmFee       int64            `yaml:"per_km_fee" json:"perKmFee"`
	MinFee         int64            `yaml:"min_fee" json:"minFee"`
	PerMinuteFee   int64            `yaml:"per_minute_fee" json:"perMinuteFee,omitempty"`
	SizeFees       map[string]int64 `yaml:"size_fees" json:"sizeFees,omitempty"`
}

type Surcharge struct {
	Name Text   `yaml:"name" json:"name"`
	From string `yaml:"from" json:"from"`
	To   string `yaml:"to" json:"to"`
	Fee  int64  `yaml:"fee" json:"fee"`
}

type Role struct {
	Name        string   `yaml:"name" json:"name"`
	Permissions []string `yaml:"permissions" json:"permissions"`
}

// Account is a demo account; passwords only for staff, development only.
type Account struct {
	Phone    string   `yaml:"phone"`
	Name     string   `yaml:"name"`
	Roles    []string `yaml:"roles"`
	Password string   `yaml:"password"`
}

// Place is a named campus point. Coordinates are [lng, lat] as in GeoJSON.
type Place struct {
	Name string     `json:"name"`
	Kind string     `json:"kind"`
	At   [2]float64 `json:"at"`
}

// Zone is a delivery-range polygon (GeoJSON geometry).
type Zone struct {
	Name     string          `json:"name"`
	Geometry json.RawMessage `json:"geometry"`
}

// Duration reads "15m" style values.
type Duration time.Duration

func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := time.ParseDuration(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %q is not a duration like 15m", n.Line, n.Value)
	}
	*d = Duration(v)
	return nil
}

func (d Duration) MarshalJSON() ([]byte, error) {
	return []byte(`"` + time.Duration(d).String() + `"`), nil
}

// Load reads blueprint name from the embedded tenants/ tree, following extends.
func Load(name string) (*Blueprint, error) { return LoadFS(tenants.FS, name) }

var namePattern = regexp.MustCompile(`^[a-z][a-z0-9_-]{0,30}$`)

// LoadFS reads blueprint name (directory name/tenant.yaml) from fsys, following extends, and
// validates the result.
func LoadFS(fsys fs.FS, name string) (*Blueprint, error) {
	b, err := load(fsys, name, 0)
	if err != nil {
		return nil, err
	}
	b.Name = name
	if err := b.validate(); err != nil {
		return nil, fmt.Errorf("blueprint %s: %w", name, err)
	}
	return b, nil
}

func load(fsys fs.FS, name string, depth int) (*Blueprint, error) {
	if !namePattern.MatchString(name) {
		return nil, fmt.Errorf("blueprint name %q: use lowercase letters, digits, - or _", name)
	}
	if depth > 3 {
		return nil, fmt.Errorf("blueprint %s: extends nests too deep", name)
	}
	file := path.Join(name, "tenant.yaml")
	raw, err := fs.ReadFile(fsys, file)
	if err != nil {
		return nil, fmt.Errorf("blueprint %s: %w", name, err)
	}
	// First find extends, then decode this file over its parent so it overrides field by field.
	var head struct {
		Extends string `yaml:"extends"`
	}
	_ = yaml.Unmarshal(raw, &head)
	b := &Blueprint{}
	if head.Extends != "" {
		if b, err = load(fsys, head.Extends, depth+1); err != nil {
			return nil, err
		}
	}
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	dec.KnownFields(true)
	if err := dec.Decode(b); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	b.Extends = ""
	if b.CampusGeoJSON != "" && !strings.Contains(b.CampusGeoJSON, "/") {
		gj, err := fs.ReadFile(fsys, path.Join(name, b.CampusGeoJSON))
		if err != nil {
			return nil, fmt.Errorf("%s: campus_geojson: %w", file, err)
		}
		if b.Places, b.Zones, err = ParseCampus(gj); err != nil {
			return nil, fmt.Errorf("%s: campus_geojson %s: %w", file, b.CampusGeoJSON, err)
		}
		b.CampusGeoJSON = ""
	}
	return b, nil
}

// ParseCampus reads named places (Point features with name and kind) and delivery zones
// (Polygon/MultiPolygon features of kind "zone") from a GeoJSON FeatureCollection. Points of
// kind "outside" are test fixtures and skipped.
func ParseCampus(raw []byte) ([]Place, []Zone, error) {
	fc, err := geojson.UnmarshalFeatureCollection(raw)
	if err != nil {
		return nil, nil, fmt.Errorf("not a GeoJSON FeatureCollection: %w", err)
	}
	var places []Place
	var zones []Zone
	for i, f := range fc.Features {
		name, _ := f.Properties["name"].(string)
		kind, _ := f.Properties["kind"].(string)
		if name == "" || kind == "" {
			return nil, nil, fmt.Errorf("feature %d: properties name and kind are required", i)
		}
		switch g := f.Geometry.(type) {
		case orb.Point:
			if kind == "outside" {
				continue
			}
			if !validLngLat(g) {
				return nil, nil, fmt.Errorf("feature %d (%s): coordinates out of range", i, name)
			}
			places = append(places, Place{Name: name, Kind: kind, At: [2]float64{g.Lon(), g.Lat()}})
		case orb.Polygon, orb.MultiPolygon:
			if kind != "zone" {
				return nil, nil, fmt.Errorf("feature %d (%s): polygons must have kind zone", i, name)
			}
			if b := g.Bound(); !validLngLat(b.Min) || !validLngLat(b.Max) || b.Min == b.Max {
				return nil, nil, fmt.Errorf("feature %d (%s): polygon out of range or empty", i, name)
			}
			gm, err := geojson.NewGeometry(g).MarshalJSON()
			if err != nil {
				return nil, nil, err
			}
			zones = append(zones, Zone{Name: name, Geometry: gm})
		default:
			return nil, nil, fmt.Errorf("feature %d (%s): unsupported geometry %T", i, name, f.Geometry)
		}
	}
	return places, zones, nil
}

func validLngLat(p orb.Point) bool {
	return p.Lon() >= -180 && p.Lon() <= 180 && p.Lat() >= -90 && p.Lat() <= 90
}

var (
	colorPattern  = regexp.MustCompile(`^#[0-9a-fA-F]{6}$`)
	keyPattern    = regexp.MustCompile(`^[a-z][a-z0-9_]{1,39}$`)
	clockPattern  = regexp.MustCompile(`^([01]\d|2[0-3]):[0-5]\d$`)
	permPattern   = regexp.MustCompile(`^[a-z*][a-z_*]*:[a-z*][a-z_*]*$`)
	rolePattern   = regexp.MustCompile(`^[a-z][a-z0-9-]{1,39}$`)
	phonePattern  = regexp.MustCompile(`^1[3-9]\d{9}$`)
	eventPattern  = regexp.MustCompile(`^[a-z_]+\.[a-z_]+$`)
	weekdays      = []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"}
	fieldTypes    = map[string]bool{"text": true, "textarea": true, "number": true, "select": true, "phone": true, "time": true}
	builtinRoles  = map[string]bool{"owner": true, "admin": true, "dispatcher": true, "finance": true, "support": true, "courier": true, "student": true}
	dispatchModes = map[string]bool{"grab": true, "dispatch": true, "hybrid": true}
	orderStatuses = map[string]bool{"awaiting_courier": true, "accepted": true, "picked_up": true}
)

// validate collects every problem, each naming its field.
func (b *Blueprint) validate() error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", field, fmt.Sprintf(format, args...)))
	}
	if _, err := time.LoadLocation(b.Timezone); err != nil || b.Timezone == "" {
		bad("timezone", "unknown time zone %q", b.Timezone)
	}
	for f, c := range map[string]string{"branding.primary_color": b.Branding.PrimaryColor, "branding.accent_color": b.Branding.AccentColor} {
		if !colorPattern.MatchString(c) {
			bad(f, "must be a colour like #1677ff, got %q", c)
		}
	}
	for day, windows := range b.ServiceHours {
		if !contains(weekdays, day) {
			bad("service_hours."+day, "unknown weekday (use mon..sun)")
		}
		for i, w := range windows {
			from, to, ok := strings.Cut(w, "-")
			// 24:00 may end a window (end of day), as places, which enforces the hours, reads it.
			if !ok || !clockPattern.MatchString(from) || !(clockPattern.MatchString(to) || to == "24:00") || from >= to {
				bad(fmt.Sprintf("service_hours.%s[%d]", day, i), "must be HH:MM-HH:MM with start before end (an end may be 24:00), got %q", w)
			}
		}
	}
	if s := b.Commission.CourierShareBP; s < 0 || s > 10000 {
		bad("commission.courier_share_bp", "must be 0..10000 basis points, got %d", s)
	}
	if !dispatchModes[b.Dispatch.Mode] {
		bad("dispatch.mode", "must be grab, dispatch or hybrid, got %q", b.Dispatch.Mode)
	}
	if b.Orders.PaymentTimeout <= 0 {
		bad("orders.payment_timeout", "must be positive")
	}
	if b.Orders.AutoConfirmAfter <= 0 {
		bad("orders.auto_confirm_after", "must be positive")
	}
	if !orderStatuses[b.Orders.FreeCancelUntil] {
		bad("orders.free_cancel_until", "must be awaiting_courier, accepted or picked_up, got %q", b.Orders.FreeCancelUntil)
	}
	if len(b.TaskTypes) == 0 {
		bad("task_types", "at least one task type is required")
	}
	seen := map[string]bool{}
	for i, tt := range b.TaskTypes {
		at := fmt.Sprintf("task_types[%d]", i)
		if !keyPattern.MatchString(tt.Key) {
			bad(at+".key", "must be lowercase snake_case, got %q", tt.Key)
		} else if seen[tt.Key] {
			bad(at+".key", "duplicate key %q", tt.Key)
		}
		seen[tt.Key] = true
		if tt.Name.ZH == "" || tt.Name.EN == "" {
			bad(at+".name", "zh and en are required")
		}
		fields := map[string]bool{}
		for j, f := range tt.Fields {
			fat := fmt.Sprintf("%s.fields[%d]", at, j)
			if !keyPattern.MatchString(f.Key) || fields[f.Key] {
				bad(fat+".key", "must be a unique snake_case key, got %q", f.Key)
			}
			fields[f.Key] = true
			if !fieldTypes[f.Type] {
				bad(fat+".type", "must be text, textarea, number, select, phone or time, got %q", f.Type)
			}
			if f.Type == "select" && len(f.Options) == 0 {
				bad(fat+".options", "a select needs options")
			}
			if f.Min != nil && f.Max != nil && *f.Min > *f.Max {
				bad(fat, "min is above max")
			}
			if f.Label.ZH == "" || f.Label.EN == "" {
				bad(fat+".label", "zh and en are required")
			}
		}
		p := tt.Pricing
		if p.BaseFee < 0 || p.IncludedMeters < 0 || p.PerKmFee < 0 || p.MinFee < 0 || p.PerMinuteFee < 0 {
			bad(at+".pricing", "amounts must not be negative")
		}
		for size, fee := range p.SizeFees {
			if !keyPattern.MatchString(size) || fee < 0 {
				bad(at+".pricing.size_fees."+size, "must be a snake_case class with a fee >= 0")
			}
		}
	}
	for i, s := range b.Surcharges {
		at := fmt.Sprintf("surcharges[%d]", i)
		if !clockPattern.MatchString(s.From) || !clockPattern.MatchString(s.To) || s.From == s.To {
			bad(at, "from and to must be different HH:MM times")
		}
		if s.Fee <= 0 {
			bad(at+".fee", "must be positive")
		}
	}
	for i, r := range b.Roles {
		at := fmt.Sprintf("roles[%d]", i)
		if !rolePattern.MatchString(r.Name) || builtinRoles[r.Name] {
			bad(at+".name", "must be a new lowercase role name, got %q", r.Name)
		}
		if len(r.Permissions) == 0 {
			bad(at+".permissions", "at least one permission")
		}
		for _, p := range r.Permissions {
			if !permPattern.MatchString(p) {
				bad(at+".permissions", "%q is not resource:action", p)
			}
		}
	}
	for ev, t := range b.Notifications {
		if !eventPattern.MatchString(ev) || t.ZH == "" || t.EN == "" {
			bad("notifications."+ev, "needs an event name like order.paid and zh and en texts")
		}
	}
	phones := map[string]bool{}
	for i, a := range b.Accounts {
		at := fmt.Sprintf("accounts[%d]", i)
		if !phonePattern.MatchString(a.Phone) || phones[a.Phone] {
			bad(at+".phone", "must be a unique 11-digit mobile number")
		}
		phones[a.Phone] = true
		if len(a.Roles) == 0 {
			bad(at+".roles", "at least one role")
		}
		for _, r := range a.Roles {
			if !builtinRoles[r] && !b.hasRole(r) {
				bad(at+".roles", "unknown role %q", r)
			}
		}
		if a.Password != "" && len(a.Password) < 8 {
			bad(at+".password", "at least 8 characters")
		}
	}
	return errors.Join(errs...)
}

func (b *Blueprint) hasRole(name string) bool {
	for _, r := range b.Roles {
		if r.Name == name {
			return true
		}
	}
	return false
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// Settings are the tenant settings rows the blueprint seeds (key -> JSON document).
func (b *Blueprint) Settings() map[string]any {
	s := map[string]any{
		"timezone":      b.Timezone,
		"branding":      b.Branding,
		"service_hours": b.ServiceHours,
		"commission":    b.Commission,
		"dispatch":      b.Dispatch,
		"orders":        b.Orders,
		"task_types":    b.TaskTypes,
		"surcharges":    b.Surcharges,
		"notifications": b.Notifications,
	}
	if len(b.Places) > 0 {
		s["places"] = b.Places
	}
	if len(b.Zones) > 0 {
		s["zones"] = b.Zones
	}
	return s
}
