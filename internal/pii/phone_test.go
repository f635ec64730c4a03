package pii

import (
	"errors"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestNormalizePhone(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in, want string
		err            error
	}{
		{"bare", "13812341234", "13812341234", nil},
		{"plus 86", "+8613812341234", "13812341234", nil},
		{"plus 86 spaced", "+86 138 1234 1234", "13812341234", nil},
		{"0086", "008619912345678", "19912345678", nil},
		{"bare 86", "8615012345678", "15012345678", nil},
		{"dashes", "138-1234-1234", "13812341234", nil},
		{"prefix and dashes", "+86-138-1234-1234", "13812341234", nil},
		{"surrounding space", "  17712345678\t", "17712345678", nil},
		{"landline", "010-12345678", "", ErrInvalidPhone},
		{"landline with area code 0", "02112345678", "", ErrInvalidPhone},
		{"ten digits", "1381234123", "", ErrInvalidPhone},
		{"twelve digits", "138123412345", "", ErrInvalidPhone},
		{"letters", "1381234abcd", "", ErrInvalidPhone},
		{"starts with 2", "23812341234", "", ErrInvalidPhone},
		{"second digit 2", "12812341234", "", ErrInvalidPhone},
		{"empty", "", "", ErrInvalidPhone},
		{"only prefix", "+86", "", ErrInvalidPhone},
		{"double prefix", "+86008613812341234", "", ErrInvalidPhone},
		{"full-width digits", "１３８１２３４１２３４", "", ErrInvalidPhone},
		{"dots", "138.1234.1234", "", ErrInvalidPhone},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := NormalizePhone(tc.in)
			if !errors.Is(err, tc.err) {
				t.Fatalf("NormalizePhone(%q) error = %v, want %v", tc.in, err, tc.err)
			}
			if got != tc.want {
				t.Errorf("NormalizePhone(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestMaskPhone(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, in, want string }{
		{"mobile", "13812341234", "138****1234"},
		{"empty", "", ""},
		{"one", "1", "*"},
		{"three", "138", "***"},
		{"eight", "12345678", "12****78"},
		{"ten", "1381234123", "13******23"},
		{"longer", "+8613812341234", "+86*******1234"},
		{"multibyte", "一二三四五六七八", "一二****七八"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := MaskPhone(tc.in); got != tc.want {
				t.Errorf("MaskPhone(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestMaskName(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, in, want string }{
		{"two han", "张三", "张*"},
		{"four han", "欧阳娜娜", "欧***"},
		{"latin", "Alice", "A****"},
		{"single", "张", "*"},
		{"empty", "", ""},
		{"with space", "Li Lei", "L*****"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := MaskName(tc.in); got != tc.want {
				t.Errorf("MaskName(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

var mobileRE = regexp.MustCompile(`^1[3-9]\d{9}$`)

func FuzzNormalizePhone(f *testing.F) {
	for _, s := range []string{"13812341234", "+86 138-1234-1234", "008619912345678", "8615012345678", "010-12345678", "", "+86", "８６１３８"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := NormalizePhone(s)
		if err != nil {
			if !errors.Is(err, ErrInvalidPhone) || p != "" {
				t.Fatalf("NormalizePhone(%q) = %q, %v", s, p, err)
			}
			return
		}
		if !mobileRE.MatchString(p) {
			t.Fatalf("NormalizePhone(%q) = %q, not a mobile number", s, p)
		}
		if again, err := NormalizePhone(p); err != nil || again != p {
			t.Fatalf("NormalizePhone not idempotent on %q: %q, %v", p, again, err)
		}
		// Exactly the first 3 and last 4 digits survive; the middle 4 never appear.
		m := MaskPhone(p)
		if strings.Count(m, "*") != 4 || m != p[:3]+"****"+p[7:] {
			t.Fatalf("MaskPhone(%q) = %q, want %q", p, m, p[:3]+"****"+p[7:])
		}
	})
}

func FuzzMaskName(f *testing.F) {
	for _, s := range []string{"张三", "欧阳娜娜", "Alice", "", "a", "\xff\xfe", "é"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m := MaskName(s)
		if s == "" {
			if m != "" {
				t.Fatalf("MaskName(\"\") = %q", m)
			}
			return
		}
		if got, want := utf8.RuneCountInString(m), utf8.RuneCountInString(s); got != want {
			t.Fatalf("MaskName(%q) = %q: %d runes, want %d", s, m, got, want)
		}
		if stars := strings.Count(m, "*"); stars < utf8.RuneCountInString(s)-1 {
			t.Fatalf("MaskName(%q) = %q reveals more than one character", s, m)
		}
	})
}
