package catalog

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/paotui/paotui/internal/blueprint"
	"github.com/paotui/paotui/internal/places"
)

// Text is a string in both UI languages.
type Text = blueprint.Text

// TaskType is one kind of errand a tenant offers.
type TaskType struct {
	Key     string  `json:"key"`
	Name    Text    `json:"name"`
	Enabled bool    `json:"enabled"`
	Sort    int     `json:"sort"`
	Fields  []Field `json:"fields"`
	Pricing Pricing `json:"pricing"`
	// ServiceHours, when not empty, replaces the tenant's weekly hours for this type:
	// weekday (mon..sun) -> "HH:MM-HH:MM" windows; a weekday it leaves out has no service.
	// Empty means the tenant's hours apply.
	ServiceHours map[string][]string `json:"serviceHours,omitempty"`
	// CourierShareBP overrides the tenant's courier share in basis points; nil means the
	// tenant's split applies.
	CourierShareBP *int      `json:"courierShareBp,omitempty"`
	Version        int       `json:"version"`
	UpdatedAt      time.Time `json:"updatedAt"`
}

// FieldType is the kind of input a form field takes.
type FieldType string

const (
	FieldText     FieldType = "text"     // one line; Max is the limit in characters
	FieldTextarea FieldType = "textarea" // several lines; Max is the limit in characters
	FieldNumber   FieldType = "number"   // an integer between Min and Max
	FieldSelect   FieldType = "select"   // one of Options
	FieldPhone    FieldType = "phone"    // a mainland-China mobile number
	FieldTime     FieldType = "time"     // a local time of day, HH:MM
)

var fieldTypes = []FieldType{FieldText, FieldTextarea, FieldNumber, FieldSelect, FieldPhone, FieldTime}

// Field declares one input of a task type's form. Its JSON shape is the blueprint's, so the
// documents provisioning stored before this package existed read back unchanged.
type Field struct {
	Key      string    `json:"key"`
	Label    Text      `json:"label"`
	Type     FieldType `json:"type"`
	Required bool      `json:"required"`
	Min      *int64    `json:"min,omitempty"`
	Max      *int64    `json:"max,omitempty"`
	Options  []string  `json:"options,omitempty"`
}

// Pricing is a task type's pricing rule; amounts are 分. Its JSON shape is the blueprint's.
type Pricing struct {
	BaseFee        int64            `json:"baseFee"`
	IncludedMeters int64            `json:"includedMeters"`
	PerKmFee       int64            `json:"perKmFee"`
	MinFee         int64            `json:"minFee"`
	PerMinuteFee   int64            `json:"perMinuteFee,omitempty"`
	SizeFees       map[string]int64 `json:"sizeFees,omitempty"`
}

// Limits on a definition. They keep what an admin types within what a phone screen shows and
// what the quote arithmetic can hold without overflowing; no real errand comes near them.
const (
	maxNameRunes      = 40
	maxFields         = 30
	maxOptions        = 50
	maxOptionRunes    = 40
	maxWindowsPerDay  = 6
	maxAmount         = 1_000_000 // 分 = ¥10,000 per amount
	maxIncludedMeters = 100_000
	// Text fields without a Max still get a limit: the values are untrusted input stored with
	// every order.
	defaultTextMax     = 100
	defaultTextareaMax = 1000
	maxTextRunes       = 2000
)

// The key, clock and weekday rules are the blueprint's (internal/blueprint keeps its own
// unexported copies); they are restated here so the admin API accepts what a blueprint may
// declare. The key pattern is also a CHECK on task_types.key. Service hours are the exception:
// they follow places (which enforces them), whose windows may end at 24:00.
var (
	keyPattern   = regexp.MustCompile(`^[a-z][a-z0-9_]{1,39}$`)
	clockPattern = regexp.MustCompile(`^([01]\d|2[0-3]):[0-5]\d$`)
	weekdays     = []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"}
)

// normalize trims the texts an admin typed, so " 代取快递 " and "代取快递" are one name, and
// drops an empty hours override so "no override" has one form.
func (t *TaskType) normalize() {
	t.Key = strings.TrimSpace(t.Key)
	t.Name = trimmed(t.Name)
	fields := make([]Field, len(t.Fields))
	for i, f := range t.Fields {
		f.Key = strings.TrimSpace(f.Key)
		f.Label = trimmed(f.Label)
		if f.Options != nil {
			opts := make([]string, len(f.Options))
			for j, o := range f.Options {
				opts[j] = strings.TrimSpace(o)
			}
			f.Options = opts
		}
		fields[i] = f
	}
	t.Fields = fields
	if len(t.ServiceHours) == 0 {
		t.ServiceHours = nil
	}
}

func trimmed(x Text) Text { return Text{ZH: strings.TrimSpace(x.ZH), EN: strings.TrimSpace(x.EN)} }

// validate returns the first rule t breaks as a *ValidationError, or nil. It checks the
// definition only; uniqueness of the key is the database's job.
func (t *TaskType) validate() error {
	if !keyPattern.MatchString(t.Key) {
		return invalid("key", "must be 2-40 lowercase letters, digits or _, starting with a letter")
	}
	if err := validateText(t.Name, "name", maxNameRunes); err != nil {
		return err
	}
	if len(t.Fields) > maxFields {
		return invalid("fields", "at most %d fields", maxFields)
	}
	seen := map[string]bool{}
	for i, f := range t.Fields {
		if err := f.validate(fmt.Sprintf("fields[%d]", i), seen); err != nil {
			return err
		}
	}
	if err := t.Pricing.validate(); err != nil {
		return err
	}
	if err := validateHours(t.ServiceHours); err != nil {
		return err
	}
	if s := t.CourierShareBP; s != nil && (*s < 0 || *s > 10000) {
		return invalid("courierShareBp", "must be 0..10000 basis points")
	}
	return nil
}

func validateText(x Text, at string, maxRunes int) error {
	for _, l := range []struct{ lang, s string }{{"zh", x.ZH}, {"en", x.EN}} {
		if l.s == "" {
			return invalid(at+"."+l.lang, "is required")
		}
		if utf8.RuneCountInString(l.s) > maxRunes {
			return invalid(at+"."+l.lang, "at most %d characters", maxRunes)
		}
	}
	return nil
}

func (f Field) validate(at string, seen map[string]bool) error {
	if !keyPattern.MatchString(f.Key) {
		return invalid(at+".key", "must be 2-40 lowercase letters, digits or _, starting with a letter")
	}
	if seen[f.Key] {
		return invalid(at+".key", "duplicate field key %q", f.Key)
	}
	seen[f.Key] = true
	if err := validateText(f.Label, at+".label", maxNameRunes); err != nil {
		return err
	}
	if !slices.Contains(fieldTypes, f.Type) {
		return invalid(at+".type", "must be text, textarea, number, select, phone or time")
	}
	// Min and Max mean something only for numbers (range) and texts (Max = length); elsewhere
	// they would be a setting the admin believes in and the form ignores.
	switch f.Type {
	case FieldNumber:
		if f.Min != nil && f.Max != nil && *f.Min > *f.Max {
			return invalid(at+".min", "must not be above max")
		}
	case FieldText, FieldTextarea:
		if f.Min != nil {
			return invalid(at+".min", "only number fields take a minimum")
		}
		if f.Max != nil && (*f.Max < 1 || *f.Max > maxTextRunes) {
			return invalid(at+".max", "must be 1..%d characters", maxTextRunes)
		}
	default:
		if f.Min != nil {
			return invalid(at+".min", "only number fields take a minimum")
		}
		if f.Max != nil {
			return invalid(at+".max", "only number and text fields take a maximum")
		}
	}
	if f.Type != FieldSelect {
		if len(f.Options) > 0 {
			return invalid(at+".options", "only select fields take options")
		}
		return nil
	}
	if len(f.Options) == 0 {
		return invalid(at+".options", "a select needs options")
	}
	if len(f.Options) > maxOptions {
		return invalid(at+".options", "at most %d options", maxOptions)
	}
	for j, o := range f.Options {
		oat := fmt.Sprintf("%s.options[%d]", at, j)
		switch {
		case o == "":
			return invalid(oat, "must not be empty")
		case utf8.RuneCountInString(o) > maxOptionRunes:
			return invalid(oat, "at most %d characters", maxOptionRunes)
		case slices.Contains(f.Options[:j], o):
			return invalid(oat, "duplicate option %q", o)
		}
	}
	return nil
}

func (p Pricing) validate() error {
	for _, a := range []struct {
		name  string
		value int64
		max   int64
	}{
		{"baseFee", p.BaseFee, maxAmount},
		{"includedMeters", p.IncludedMeters, maxIncludedMeters},
		{"perKmFee", p.PerKmFee, maxAmount},
		{"minFee", p.MinFee, maxAmount},
		{"perMinuteFee", p.PerMinuteFee, maxAmount},
	} {
		if a.value < 0 || a.value > a.max {
			return invalid("pricing."+a.name, "must be 0..%d", a.max)
		}
	}
	for _, size := range sortedKeys(p.SizeFees) {
		if !keyPattern.MatchString(size) {
			return invalid("pricing.sizeFees."+size, "size class must be lowercase snake_case")
		}
		if fee := p.SizeFees[size]; fee < 0 || fee > maxAmount {
			return invalid("pricing.sizeFees."+size, "must be 0..%d", maxAmount)
		}
	}
	return nil
}

func validateHours(hours map[string][]string) error {
	for _, day := range sortedKeys(hours) {
		if !slices.Contains(weekdays, day) {
			return invalid("serviceHours."+day, "unknown weekday (use mon..sun)")
		}
		windows := hours[day]
		if len(windows) > maxWindowsPerDay {
			return invalid("serviceHours."+day, "at most %d windows a day", maxWindowsPerDay)
		}
		for i, w := range windows {
			// Parsed by places, which enforces them when an order is placed, so an admin may
			// save exactly what is enforced: an end of 24:00 (end of day) but never a start.
			if _, err := places.ParseWindow(w); err != nil {
				return invalid(fmt.Sprintf("serviceHours.%s[%d]", day, i), "must be HH:MM-HH:MM with start before end, by 24:00")
			}
		}
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// FromBlueprint converts a blueprint task type. A type the blueprint does not mark enabled
// or disabled is enabled. Sort is left for the caller.
func FromBlueprint(b blueprint.TaskType) TaskType {
	t := TaskType{Key: b.Key, Name: Text(b.Name), Enabled: b.Enabled == nil || *b.Enabled, Pricing: Pricing(b.Pricing)}
	t.Fields = make([]Field, len(b.Fields))
	for i, f := range b.Fields {
		t.Fields[i] = Field{Key: f.Key, Label: Text(f.Label), Type: FieldType(f.Type), Required: f.Required,
			Min: f.Min, Max: f.Max, Options: f.Options}
	}
	return t
}
