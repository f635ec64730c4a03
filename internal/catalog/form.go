package catalog

import (
	"encoding/json"
	"errors"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/paotui/paotui/internal/pii"
)

// maxExactInteger is the largest integer a JSON number decoded as float64 holds exactly;
// beyond it, 9007199254740993 would silently become ...992.
const maxExactInteger = 1 << 53

// ValidateForm checks a student's submitted form values (decoded JSON: strings, float64 or
// json.Number numbers, ...) against t's fields. Values are untrusted: every declared field is
// checked, and keys the form does not declare are refused rather than stored unchecked.
//
// On success it returns the cleaned values to store with the order: only declared fields that
// have a value; strings trimmed, stripped of control characters (a textarea keeps its line
// breaks and tabs) and made valid UTF-8; numbers as int64; phones in their 11-digit form. A
// value that is null, empty or only spaces counts as absent. Numbers may also arrive as
// strings of digits, as HTML forms send them.
//
// Otherwise it returns a *FormError (errors.Is ErrInvalidForm) listing every bad field with
// one of the Reason codes.
func ValidateForm(t TaskType, values map[string]any) (map[string]any, error) {
	out := make(map[string]any, len(t.Fields))
	var problems []FieldProblem
	declared := make(map[string]bool, len(t.Fields))
	for _, f := range t.Fields {
		declared[f.Key] = true
		v, reason := f.clean(values[f.Key])
		switch {
		case reason != "":
			problems = append(problems, FieldProblem{Field: f.Key, Reason: reason})
		case v == nil && f.Required:
			problems = append(problems, FieldProblem{Field: f.Key, Reason: ReasonRequired})
		case v != nil:
			out[f.Key] = v
		}
	}
	for _, k := range sortedKeys(values) {
		if !declared[k] {
			problems = append(problems, FieldProblem{Field: k, Reason: ReasonUnknownField})
		}
	}
	if len(problems) > 0 {
		return nil, &FormError{Problems: problems}
	}
	return out, nil
}

// clean returns v in its stored form, nil for an absent value, or the reason it is refused.
func (f Field) clean(v any) (any, string) {
	if s, ok := v.(string); ok {
		s = cleanString(s, f.Type == FieldTextarea)
		if s == "" {
			return nil, ""
		}
		v = s
	}
	if v == nil {
		return nil, ""
	}
	s, isString := v.(string)
	switch f.Type {
	case FieldText, FieldTextarea:
		if !isString {
			return nil, ReasonInvalidType
		}
		if utf8.RuneCountInString(s) > f.maxRunes() {
			return nil, ReasonTooLong
		}
		return s, ""
	case FieldNumber:
		n, reason := toInt64(v)
		if reason != "" {
			return nil, reason
		}
		if f.Min != nil && n < *f.Min || f.Max != nil && n > *f.Max {
			return nil, ReasonOutOfRange
		}
		return n, ""
	case FieldSelect:
		if !isString || !slices.Contains(f.Options, s) {
			return nil, ReasonNotAnOption
		}
		return s, ""
	case FieldPhone:
		if !isString {
			return nil, ReasonInvalidPhone
		}
		p, err := pii.NormalizePhone(s)
		if err != nil {
			return nil, ReasonInvalidPhone
		}
		return p, ""
	case FieldTime:
		if !isString || !clockPattern.MatchString(s) {
			return nil, ReasonInvalidTime
		}
		return s, ""
	default:
		// A field type this code does not know cannot be checked, so nothing is accepted.
		return nil, ReasonInvalidType
	}
}

func (f Field) maxRunes() int {
	switch {
	case f.Max != nil:
		return int(min(*f.Max, maxTextRunes))
	case f.Type == FieldTextarea:
		return defaultTextareaMax
	default:
		return defaultTextMax
	}
}

// cleanString makes s safe to store and show: valid UTF-8, no control characters (PostgreSQL's
// jsonb cannot even hold NUL, and a stray carriage return breaks a one-line task card), and
// trimmed. Single-line values turn line breaks and tabs into spaces; multiline values keep
// them, with \r\n folded to \n.
func cleanString(s string, multiline bool) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if multiline {
		s = strings.ReplaceAll(s, "\r\n", "\n")
	}
	s = strings.Map(func(r rune) rune {
		switch {
		case !unicode.IsControl(r):
			return r
		case multiline && (r == '\n' || r == '\t'):
			return r
		case r == '\n' || r == '\t' || r == '\r':
			return ' '
		default:
			return -1
		}
	}, s)
	return strings.TrimSpace(s)
}

// toInt64 accepts whole numbers only: a price or a count of 3.5 is a mistake to report, not
// to round.
func toInt64(v any) (int64, string) {
	switch n := v.(type) {
	case float64:
		switch {
		case math.IsNaN(n):
			return 0, ReasonNotANumber
		case math.IsInf(n, 0) || math.Abs(n) > maxExactInteger:
			return 0, ReasonOutOfRange
		case n != math.Trunc(n):
			return 0, ReasonNotANumber
		}
		return int64(n), ""
	case json.Number:
		if i, err := n.Int64(); err == nil {
			return i, ""
		}
		f, err := n.Float64()
		if errors.Is(err, strconv.ErrRange) {
			return 0, ReasonOutOfRange
		}
		if err != nil {
			return 0, ReasonNotANumber
		}
		return toInt64(f)
	case int:
		return int64(n), ""
	case int32:
		return int64(n), ""
	case int64:
		return n, ""
	case string:
		i, err := strconv.ParseInt(n, 10, 64)
		if errors.Is(err, strconv.ErrRange) {
			return 0, ReasonOutOfRange
		}
		if err != nil {
			return 0, ReasonNotANumber
		}
		return i, ""
	default:
		return 0, ReasonNotANumber
	}
}
