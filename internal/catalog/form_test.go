package catalog_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/paotui/paotui/internal/catalog"
)

func ptr[T any](v T) *T { return &v }

func label(s string) catalog.Text { return catalog.Text{ZH: s, EN: s} }

// errand declares one field of every type, with limits, as an admin might.
var errand = catalog.TaskType{
	Key: "errand", Name: catalog.Text{ZH: "跑腿", EN: "Errand"}, Enabled: true,
	Fields: []catalog.Field{
		{Key: "code", Label: label("code"), Type: catalog.FieldText, Required: true, Max: ptr[int64](8)},
		{Key: "notes", Label: label("notes"), Type: catalog.FieldTextarea, Max: ptr[int64](20)},
		{Key: "count", Label: label("count"), Type: catalog.FieldNumber, Required: true, Min: ptr[int64](1), Max: ptr[int64](10)},
		{Key: "size", Label: label("size"), Type: catalog.FieldSelect, Options: []string{"small", "medium", "large"}},
		{Key: "phone", Label: label("phone"), Type: catalog.FieldPhone},
		{Key: "at", Label: label("at"), Type: catalog.FieldTime},
		{Key: "remark", Label: label("remark"), Type: catalog.FieldText}, // no Max: the default limit applies
	},
}

type problems = []catalog.FieldProblem

func TestValidateForm(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name      string
		json      string
		useNumber bool // decode numbers as json.Number instead of float64
		want      map[string]any
		problems  problems
	}{
		{
			name: "every type cleaned",
			json: `{"code":"  A1 ","notes":"line1\r\nline2\t\u0000","count":3,"size":" medium ",
				"phone":"+86 138-0013-8000","at":"08:05","remark":"a\nb\u0007c"}`,
			want: map[string]any{"code": "A1", "notes": "line1\nline2", "count": int64(3), "size": "medium",
				"phone": "13800138000", "at": "08:05", "remark": "a bc"},
		},
		{
			name: "optional fields absent when null or blank",
			json: `{"code":"x","count":1,"notes":"   ","phone":null,"size":""}`,
			want: map[string]any{"code": "x", "count": int64(1)},
		},
		{name: "number as a string of digits", json: `{"code":"x","count":" 7 "}`, want: map[string]any{"code": "x", "count": int64(7)}},
		{name: "number as json.Number", json: `{"code":"x","count":7}`, useNumber: true, want: map[string]any{"code": "x", "count": int64(7)}},
		{name: "whole float in exponent form", json: `{"code":"x","count":1e1}`, want: map[string]any{"code": "x", "count": int64(10)}},
		{name: "max counts characters, not bytes", json: `{"code":"一二三四五六七八","count":1}`, want: map[string]any{"code": "一二三四五六七八", "count": int64(1)}},
		{name: "required missing", json: `{}`, problems: problems{{"code", "required"}, {"count", "required"}}},
		{name: "nil values", json: `null`, problems: problems{{"code", "required"}, {"count", "required"}}},
		{name: "required blank or null", json: `{"code":" \t ","count":null}`, problems: problems{{"code", "required"}, {"count", "required"}}},
		{name: "required made only of control characters", json: `{"code":"\u0000\u0001","count":1}`, problems: problems{{"code", "required"}}},
		{
			name:     "unknown fields, sorted",
			json:     `{"code":"x","count":1,"zeta":1,"alpha":"y","Code":"z"}`,
			problems: problems{{"Code", "unknown_field"}, {"alpha", "unknown_field"}, {"zeta", "unknown_field"}},
		},
		{name: "too long", json: `{"code":"123456789","count":1}`, problems: problems{{"code", "too_long"}}},
		{name: "too long by default limit", json: `{"code":"x","count":1,"remark":"` + strings.Repeat("长", 101) + `"}`, problems: problems{{"remark", "too_long"}}},
		{name: "textarea too long", json: `{"code":"x","count":1,"notes":"` + strings.Repeat("a", 21) + `"}`, problems: problems{{"notes", "too_long"}}},
		{name: "text given a number", json: `{"code":123,"count":1}`, problems: problems{{"code", "invalid_type"}}},
		{name: "text given an object", json: `{"code":{"a":1},"count":1}`, problems: problems{{"code", "invalid_type"}}},
		{name: "fraction", json: `{"code":"x","count":3.5}`, problems: problems{{"count", "not_a_number"}}},
		{name: "fraction as json.Number", json: `{"code":"x","count":3.5}`, useNumber: true, problems: problems{{"count", "not_a_number"}}},
		{name: "word for a number", json: `{"code":"x","count":"three"}`, problems: problems{{"count", "not_a_number"}}},
		{name: "boolean for a number", json: `{"code":"x","count":true}`, problems: problems{{"count", "not_a_number"}}},
		{name: "list for a number", json: `{"code":"x","count":[1]}`, problems: problems{{"count", "not_a_number"}}},
		{name: "below min", json: `{"code":"x","count":0}`, problems: problems{{"count", "out_of_range"}}},
		{name: "above max", json: `{"code":"x","count":11}`, problems: problems{{"count", "out_of_range"}}},
		{name: "huge", json: `{"code":"x","count":1e300}`, problems: problems{{"count", "out_of_range"}}},
		{name: "huge json.Number", json: `{"code":"x","count":1e400}`, useNumber: true, problems: problems{{"count", "out_of_range"}}},
		{name: "huge digit string", json: `{"code":"x","count":"99999999999999999999"}`, problems: problems{{"count", "out_of_range"}}},
		{name: "not an option", json: `{"code":"x","count":1,"size":"huge"}`, problems: problems{{"size", "not_an_option"}}},
		{name: "option is case sensitive", json: `{"code":"x","count":1,"size":"Small"}`, problems: problems{{"size", "not_an_option"}}},
		{name: "number for an option", json: `{"code":"x","count":1,"size":1}`, problems: problems{{"size", "not_an_option"}}},
		{name: "landline", json: `{"code":"x","count":1,"phone":"010-12345678"}`, problems: problems{{"phone", "invalid_phone"}}},
		{name: "short phone", json: `{"code":"x","count":1,"phone":"1380013800"}`, problems: problems{{"phone", "invalid_phone"}}},
		{name: "phone as a number", json: `{"code":"x","count":1,"phone":13800138000}`, problems: problems{{"phone", "invalid_phone"}}},
		{name: "hour 24", json: `{"code":"x","count":1,"at":"24:00"}`, problems: problems{{"at", "invalid_time"}}},
		{name: "single-digit hour", json: `{"code":"x","count":1,"at":"8:05"}`, problems: problems{{"at", "invalid_time"}}},
		{name: "minute 60", json: `{"code":"x","count":1,"at":"08:60"}`, problems: problems{{"at", "invalid_time"}}},
		{name: "time as a number", json: `{"code":"x","count":1,"at":805}`, problems: problems{{"at", "invalid_time"}}},
		{
			name: "every problem at once, in form order then unknown keys",
			json: `{"notes":"` + strings.Repeat("a", 21) + `","count":2.5,"size":"xl","phone":"123","at":"noon","extra":1}`,
			problems: problems{{"code", "required"}, {"notes", "too_long"}, {"count", "not_a_number"},
				{"size", "not_an_option"}, {"phone", "invalid_phone"}, {"at", "invalid_time"}, {"extra", "unknown_field"}},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			values := decode(t, tc.json, tc.useNumber)
			got, err := catalog.ValidateForm(errand, values)
			if tc.problems == nil {
				if err != nil {
					t.Fatalf("ValidateForm: %v", err)
				}
				if !reflect.DeepEqual(got, tc.want) {
					t.Errorf("cleaned = %#v\nwant      %#v", got, tc.want)
				}
				return
			}
			var fe *catalog.FormError
			if !errors.As(err, &fe) || !errors.Is(err, catalog.ErrInvalidForm) {
				t.Fatalf("ValidateForm = %v, %v; want a *FormError", got, err)
			}
			if got != nil {
				t.Errorf("cleaned = %v; want nil with an error", got)
			}
			if !slices.Equal(fe.Problems, tc.problems) {
				t.Errorf("problems = %v\nwant       %v", fe.Problems, tc.problems)
			}
		})
	}
}

// Values that were already cleaned pass again unchanged, so a stored form can be re-checked.
func TestValidateFormIdempotent(t *testing.T) {
	t.Parallel()
	first, err := catalog.ValidateForm(errand, map[string]any{"code": " A ", "count": 2.0, "phone": "138 0013 8000", "notes": "a\r\nb"})
	if err != nil {
		t.Fatal(err)
	}
	again, err := catalog.ValidateForm(errand, first)
	if err != nil || !reflect.DeepEqual(again, first) {
		t.Errorf("ValidateForm(cleaned) = %v, %v; want %v", again, err, first)
	}
}

func decode(t testing.TB, s string, useNumber bool) map[string]any {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(s))
	if useNumber {
		dec.UseNumber()
	}
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		t.Fatalf("test JSON %s: %v", s, err)
	}
	return m
}

var (
	mobile  = regexp.MustCompile(`^1[3-9]\d{9}$`)
	clock   = regexp.MustCompile(`^([01]\d|2[0-3]):[0-5]\d$`)
	reasons = []string{"required", "unknown_field", "invalid_type", "too_long", "not_a_number",
		"out_of_range", "not_an_option", "invalid_phone", "invalid_time"}
)

// FuzzValidateForm feeds arbitrary JSON objects, decoded both ways a handler might, and checks
// that accepted output holds only declared, well-formed values and that refusals carry known
// reason codes.
func FuzzValidateForm(f *testing.F) {
	for _, seed := range []string{
		`{"code":"A1","count":3,"size":"small","phone":"+8613800138000","at":"23:59","notes":"hi\nthere"}`,
		`{"code":" ","count":"4","extra":null}`,
		`{"code":"\u0000x\r\n","count":1e2,"remark":"\ud800"}`,
		`{"count":-9007199254740993,"code":["a"]}`,
		`{"count":1.0000000000000002,"code":"x","at":"00:00","phone":"0086 139-1234-5678"}`,
		`{}`, `null`, `{"":""}`,
	} {
		f.Add([]byte(seed), false)
		f.Add([]byte(seed), true)
	}
	declared := map[string]catalog.Field{}
	for _, fl := range errand.Fields {
		declared[fl.Key] = fl
	}
	f.Fuzz(func(t *testing.T, data []byte, useNumber bool) {
		dec := json.NewDecoder(bytes.NewReader(data))
		if useNumber {
			dec.UseNumber()
		}
		var values map[string]any
		if dec.Decode(&values) != nil {
			return
		}
		out, err := catalog.ValidateForm(errand, values)
		if err != nil {
			var fe *catalog.FormError
			if !errors.As(err, &fe) || len(fe.Problems) == 0 || out != nil {
				t.Fatalf("refusal = %v, %v; want nil and a *FormError with problems", out, err)
			}
			for _, p := range fe.Problems {
				if !slices.Contains(reasons, p.Reason) {
					t.Fatalf("unknown reason %q", p.Reason)
				}
			}
			return
		}
		for _, fl := range errand.Fields {
			if _, ok := out[fl.Key]; fl.Required && !ok {
				t.Fatalf("accepted without required %s: %v", fl.Key, out)
			}
		}
		for k, v := range out {
			fl, ok := declared[k]
			if !ok {
				t.Fatalf("accepted undeclared key %q", k)
			}
			checkCleaned(t, fl, v)
		}
		if again, err := catalog.ValidateForm(errand, out); err != nil || !reflect.DeepEqual(again, out) {
			t.Fatalf("cleaned values do not pass again unchanged: %v, %v", again, err)
		}
	})
}

func checkCleaned(t *testing.T, fl catalog.Field, v any) {
	t.Helper()
	if fl.Type == catalog.FieldNumber {
		n, ok := v.(int64)
		if !ok || n < *fl.Min || n > *fl.Max {
			t.Fatalf("%s = %#v; want int64 in [%d, %d]", fl.Key, v, *fl.Min, *fl.Max)
		}
		return
	}
	s, ok := v.(string)
	if !ok || s == "" || !utf8.ValidString(s) || s != strings.TrimSpace(s) {
		t.Fatalf("%s = %#v; want a trimmed, non-empty UTF-8 string", fl.Key, v)
	}
	for _, r := range s {
		if unicode.IsControl(r) && !(fl.Type == catalog.FieldTextarea && (r == '\n' || r == '\t')) {
			t.Fatalf("%s = %q keeps control character %U", fl.Key, s, r)
		}
	}
	switch fl.Type {
	case catalog.FieldText, catalog.FieldTextarea:
		limit := 100
		if fl.Max != nil {
			limit = int(*fl.Max)
		}
		if utf8.RuneCountInString(s) > limit {
			t.Fatalf("%s = %q is over %d characters", fl.Key, s, limit)
		}
	case catalog.FieldSelect:
		if !slices.Contains(fl.Options, s) {
			t.Fatalf("%s = %q is not an option", fl.Key, s)
		}
	case catalog.FieldPhone:
		if !mobile.MatchString(s) {
			t.Fatalf("%s = %q is not an 11-digit mobile", fl.Key, s)
		}
	case catalog.FieldTime:
		if !clock.MatchString(s) {
			t.Fatalf("%s = %q is not HH:MM", fl.Key, s)
		}
	}
}
