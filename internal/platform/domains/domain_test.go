package domains

import (
	"errors"
	"strings"
	"testing"
)

func TestNormalize(t *testing.T) {
	t.Parallel()
	long := strings.Repeat(strings.Repeat("a", 60)+".", 4) + "cn"    // 246 characters
	tooLong := strings.Repeat(strings.Repeat("a", 62)+".", 4) + "cn" // 254 characters
	cases := []struct {
		in, want string // want "" = refused
	}{
		{"paotui.example-university.cn", "paotui.example-university.cn"},
		{"  PaoTui.Example-University.CN.  ", "paotui.example-university.cn"},
		{"xn--fiqs8s.xn--55qx5d.cn", "xn--fiqs8s.xn--55qx5d.cn"},
		{"a.b.c.d.campus.edu.cn", "a.b.c.d.campus.edu.cn"},
		{"1stcampus.com", "1stcampus.com"},
		{"", ""},
		{".", ""},
		{"localhost", ""},
		{"campus", ""},
		{"shop.localhost", ""},
		{"printer.local", ""},
		{"site.test", ""},
		{"campus.internal", ""},
		{"https://paotui.campus.cn", ""},
		{"paotui.campus.cn/orders", ""},
		{"paotui.campus.cn:8443", ""},
		{"user@paotui.campus.cn", ""},
		{"*.campus.cn", ""},
		{"paotui_campus.cn", ""},
		{"-paotui.campus.cn", ""},
		{"paotui-.campus.cn", ""},
		{"paotui..campus.cn", ""},
		{"跑腿.中国", ""},
		{"192.168.1.10", ""},
		{"10.0.0.1.", ""},
		{strings.Repeat("a", 64) + ".cn", ""},
		{strings.Repeat("a", 63) + ".cn", strings.Repeat("a", 63) + ".cn"},
		{long, long},
		{tooLong, ""},
	}
	for _, tc := range cases {
		got, err := Normalize(tc.in)
		if tc.want == "" {
			var ie *InvalidError
			if !errors.As(err, &ie) || !errors.Is(err, ErrInvalidDomain) || ie.Reason == "" {
				t.Errorf("Normalize(%q) = %q, %v; want an *InvalidError", tc.in, got, err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("Normalize(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

func TestUnderBase(t *testing.T) {
	t.Parallel()
	for d, want := range map[string]bool{
		"paotui.example": true, "campus.paotui.example": true, "a.b.paotui.example": true,
		"notpaotui.example": false, "paotui.example.cn": false, "campus.cn": false,
	} {
		if got := underBase(d, "Paotui.Example."); got != want {
			t.Errorf("underBase(%q) = %v; want %v", d, got, want)
		}
	}
}

// Host names come from people; whatever Normalize accepts is stored as is and later matched
// against Host headers, so it must already be in its final form.
func FuzzNormalize(f *testing.F) {
	for _, s := range []string{"paotui.campus.cn", "A.B.", "xn--fiqs8s.cn", "1.2.3.4", "a..b", "-a.b", "a.b:80", "ＡＢ.cn", "a.b\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		d, err := Normalize(in)
		if err != nil {
			if !errors.Is(err, ErrInvalidDomain) {
				t.Fatalf("Normalize(%q): error %v is not ErrInvalidDomain", in, err)
			}
			return
		}
		again, err := Normalize(d)
		if err != nil || again != d {
			t.Fatalf("Normalize(%q) = %q, which normalizes to %q, %v", in, d, again, err)
		}
		if len(d) > 253 || d != strings.ToLower(d) || strings.HasSuffix(d, ".") || !strings.Contains(d, ".") {
			t.Fatalf("Normalize(%q) = %q", in, d)
		}
		for _, r := range d {
			if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '.') {
				t.Fatalf("Normalize(%q) = %q holds %q", in, d, r)
			}
		}
	})
}
