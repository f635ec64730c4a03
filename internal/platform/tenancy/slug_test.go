package tenancy

import (
	"errors"
	"testing"
)

func TestValidateSlug(t *testing.T) {
	cases := []struct {
		name string
		slug string
		want error
	}{
		{"simple", "pku", nil},
		{"digits and hyphen", "whu-2026", nil},
		{"thirty chars", "abcdefghijklmnopqrstuvwxyz0123", nil},
		{"too short", "ab", ErrSlugInvalid},
		{"too long", "abcdefghijklmnopqrstuvwxyz01234", ErrSlugInvalid},
		{"uppercase", "PKU", ErrSlugInvalid},
		{"leading hyphen", "-pku", ErrSlugInvalid},
		{"trailing hyphen", "pku-", ErrSlugInvalid},
		{"double hyphen (punycode look-alike)", "xn--pku", ErrSlugInvalid},
		{"underscore", "p_ku", ErrSlugInvalid},
		{"dot", "p.ku", ErrSlugInvalid},
		{"unicode", "北大", ErrSlugInvalid},
		{"reserved www", "www", ErrSlugReserved},
		{"reserved admin", "admin", ErrSlugReserved},
		{"reserved api", "api", ErrSlugReserved},
		{"extra reserved", "campus", ErrSlugReserved},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := ValidateSlug(tc.slug, []string{"campus"})
			if tc.want == nil && err != nil || tc.want != nil && !errors.Is(err, tc.want) {
				t.Fatalf("ValidateSlug(%q) = %v, want %v", tc.slug, err, tc.want)
			}
		})
	}
}

func FuzzValidateSlug(f *testing.F) {
	for _, s := range []string{"pku", "www", "a-b-c", "--", "北大"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if ValidateSlug(s, nil) == nil {
			if len(s) < 3 || len(s) > 30 || IsReserved(s) || SchemaFor(1) == "" {
				t.Fatalf("accepted %q", s)
			}
			for _, r := range s {
				if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
					t.Fatalf("accepted %q with %q", s, r)
				}
			}
		}
	})
}
