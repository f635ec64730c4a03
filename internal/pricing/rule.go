package pricing

import (
	"fmt"
	"strings"

	"github.com/paotui/paotui/internal/blueprint"
)

const (
	// DefaultDetour is the detour factor used when a rule leaves it 0: campus paths are not
	// straight lines, and 1.3 is a common road-to-crow-flies ratio.
	DefaultDetour = 1.3
	// MinDetour and MaxDetour bound a configured detour factor.
	MinDetour, MaxDetour = 1.0, 3.0
	// MaxAmount caps every configured fee and the coupon (¥10,000). No errand costs that
	// much, and the cap keeps every sum far from int64 overflow whatever the admin types.
	MaxAmount Money = 1_000_000
)

// Rule prices one task type. The zero DetourFactor means DefaultDetour.
type Rule struct {
	BaseFee        Money            `json:"baseFee"`
	IncludedMeters int64            `json:"includedMeters"`
	PerKmFee       Money            `json:"perKmFee"`
	MinFee         Money            `json:"minFee"`
	PerMinuteFee   Money            `json:"perMinuteFee,omitempty"`
	SizeFees       map[string]Money `json:"sizeFees,omitempty"`
	DetourFactor   float64          `json:"detourFactor"`
}

// Surcharge is a time-of-day fee added to every task type while the tenant's wall clock is
// in [From, To). A window whose From is after its To wraps midnight (22:00–06:00).
type Surcharge struct {
	Code string         `json:"code"`
	Name blueprint.Text `json:"name"`
	From string         `json:"from"` // "HH:MM", inclusive
	To   string         `json:"to"`   // "HH:MM", exclusive
	Fee  Money          `json:"fee"`
}

// FromBlueprint converts a task type's blueprint pricing and the tenant's surcharges,
// validating both; errors wrap ErrBadRule and name the field. detour 0 means DefaultDetour,
// and the returned Rule holds the effective factor so the admin sees what is applied.
//
// Blueprint surcharges have no code, so one is derived from the English name: lower-case
// snake_case without a trailing "surcharge" ("Night surcharge" → "night"), "s<n>" when the
// name gives nothing, and "_<n>" appended on a clash (n is the 1-based position). Codes stay
// stable as long as the English names do.
func FromBlueprint(p blueprint.Pricing, surcharges []blueprint.Surcharge, detour float64) (Rule, []Surcharge, error) {
	if detour == 0 {
		detour = DefaultDetour
	}
	r := Rule{
		BaseFee:        Money(p.BaseFee),
		IncludedMeters: p.IncludedMeters,
		PerKmFee:       Money(p.PerKmFee),
		MinFee:         Money(p.MinFee),
		PerMinuteFee:   Money(p.PerMinuteFee),
		DetourFactor:   detour,
	}
	if len(p.SizeFees) > 0 {
		r.SizeFees = make(map[string]Money, len(p.SizeFees))
		for k, v := range p.SizeFees {
			r.SizeFees[k] = Money(v)
		}
	}
	if err := r.validate(); err != nil {
		return Rule{}, nil, err
	}
	out := make([]Surcharge, 0, len(surcharges))
	used := make(map[string]bool, len(surcharges))
	for i, s := range surcharges {
		code := slug(s.Name.EN)
		if code == "" {
			code = fmt.Sprintf("s%d", i+1)
		}
		if used[code] {
			code = fmt.Sprintf("%s_%d", code, i+1)
		}
		used[code] = true
		out = append(out, Surcharge{Code: code, Name: s.Name, From: s.From, To: s.To, Fee: Money(s.Fee)})
	}
	if err := validateSurcharges(out); err != nil {
		return Rule{}, nil, err
	}
	return r, out, nil
}

// slug turns an English label into a surcharge code, or "" if nothing usable is left.
func slug(name string) string {
	var b strings.Builder
	gap := false
	for _, c := range strings.ToLower(name) {
		if c >= 'a' && c <= 'z' || c >= '0' && c <= '9' {
			if gap && b.Len() > 0 {
				b.WriteByte('_')
			}
			gap = false
			b.WriteRune(c)
			continue
		}
		gap = true
	}
	s := b.String()
	if t := strings.TrimSuffix(strings.TrimSuffix(s, "surcharge"), "_"); t != "" {
		s = t
	}
	if len(s) > 32 {
		s = strings.TrimRight(s[:32], "_")
	}
	if s != "" && (s[0] < 'a' || s[0] > 'z') {
		s = "s" + s
	}
	return s
}

// detour is the factor Quote applies.
func (r Rule) detour() float64 {
	if r.DetourFactor == 0 {
		return DefaultDetour
	}
	return r.DetourFactor
}

func (r Rule) validate() error {
	if err := checkAmount("base_fee", r.BaseFee); err != nil {
		return err
	}
	if err := checkAmount("per_km_fee", r.PerKmFee); err != nil {
		return err
	}
	if err := checkAmount("min_fee", r.MinFee); err != nil {
		return err
	}
	if err := checkAmount("per_minute_fee", r.PerMinuteFee); err != nil {
		return err
	}
	if r.IncludedMeters < 0 {
		return fmt.Errorf("%w: included_meters must not be negative, got %d", ErrBadRule, r.IncludedMeters)
	}
	// Negated so NaN is rejected.
	if d := r.DetourFactor; d != 0 && !(d >= MinDetour && d <= MaxDetour) {
		return fmt.Errorf("%w: detour factor must be %.1f..%.1f, got %v", ErrBadRule, MinDetour, MaxDetour, d)
	}
	for size, fee := range r.SizeFees {
		if !validCode(size) {
			return fmt.Errorf("%w: size class %q must be lower-case snake_case", ErrBadRule, size)
		}
		if err := checkAmount("size_fees."+size, fee); err != nil {
			return err
		}
	}
	return nil
}

func checkAmount(field string, m Money) error {
	if m < 0 || m > MaxAmount {
		return fmt.Errorf("%w: %s must be 0..%d 分, got %d", ErrBadRule, field, MaxAmount, m)
	}
	return nil
}

func validateSurcharges(s []Surcharge) error {
	for i, x := range s {
		if !validCode(x.Code) {
			return fmt.Errorf("%w: surcharges[%d].code %q must be lower-case snake_case", ErrBadRule, i, x.Code)
		}
		for _, y := range s[:i] {
			if y.Code == x.Code {
				return fmt.Errorf("%w: surcharges[%d].code %q is used twice", ErrBadRule, i, x.Code)
			}
		}
		from, ok1 := clock(x.From)
		to, ok2 := clock(x.To)
		if !ok1 || !ok2 || from == to {
			return fmt.Errorf("%w: surcharges[%d] (%s): from and to must be different HH:MM times, got %q-%q", ErrBadRule, i, x.Code, x.From, x.To)
		}
		if x.Fee <= 0 || x.Fee > MaxAmount {
			return fmt.Errorf("%w: surcharges[%d] (%s): fee must be 1..%d 分, got %d", ErrBadRule, i, x.Code, MaxAmount, x.Fee)
		}
	}
	return nil
}

// clock parses "HH:MM" (00:00..23:59) into minutes after midnight.
func clock(s string) (int, bool) {
	if len(s) != 5 || s[2] != ':' {
		return 0, false
	}
	for _, i := range [4]int{0, 1, 3, 4} {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	h := int(s[0]-'0')*10 + int(s[1]-'0')
	m := int(s[3]-'0')*10 + int(s[4]-'0')
	if h > 23 || m > 59 {
		return 0, false
	}
	return h*60 + m, true
}

// contains reports whether minute-of-day t is in the window; validated windows only.
func (s Surcharge) contains(t int) bool {
	from, _ := clock(s.From)
	to, _ := clock(s.To)
	if from < to {
		return from <= t && t < to
	}
	return t >= from || t < to // wraps midnight
}

// validCode reports whether s is a line or size code: a lower-case letter, then up to 39
// lower-case letters, digits or underscores.
func validCode(s string) bool {
	if len(s) == 0 || len(s) > 40 || s[0] < 'a' || s[0] > 'z' {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}
