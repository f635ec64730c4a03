package webapp

import (
	"encoding/json"
	"html"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/paotui/paotui/internal/branding"
	"github.com/paotui/paotui/internal/platform/tenancy"
)

func TestInject(t *testing.T) {
	cases := []struct{ name, page, want string }{
		{"marker", "<head><meta><!--paotui:head--><link></head>", "<head><meta>HEAD<link></head>"},
		{"only the first marker", "<head><!--paotui:head--></head><!--paotui:head-->", "<head>HEAD</head><!--paotui:head-->"},
		{"no marker: end of head", "<html><head><meta></head><body></body>", "<html><head><meta>HEAD</head><body></body>"},
		{"no head at all", "<p>hi</p>", "HEAD<p>hi</p>"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := string(inject([]byte(tc.page), []byte("HEAD"))); got != tc.want {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
		})
	}
}

// Whatever an owner types into the branding, the head holds exactly its own title, style and
// script elements, and the boot data carries the text back unchanged.
func FuzzRenderHead(f *testing.F) {
	for _, s := range []string{"校园跑腿", "</script><script>alert(1)</script>", "<!--", "a\u2028b\u2029c", "</title><img src=x>",
		"\"};alert(1);//", "</style><style>", "]]>", "\x00"} {
		f.Add(s, s, "#12ab34")
	}
	f.Fuzz(func(t *testing.T, name, announcement, primary string) {
		if !utf8.ValidString(name) || !utf8.ValidString(announcement) {
			t.Skip("branding arrives as JSON text, always valid UTF-8")
		}
		host := tenancy.Host{Kind: tenancy.KindTenant, Tenant: &tenancy.Tenant{Slug: "x", Name: name, Status: tenancy.StatusActive}}
		v := &branding.View{Branding: branding.Branding{Name: name, PrimaryColor: primary, AccentColor: "#000000", Announcement: announcement}}
		hd, err := render(newBoot(host, v))
		if err != nil {
			t.Fatal(err)
		}
		out := string(hd.html)
		for tag, n := range map[string]int{"<title": 1, "</title": 1, "<script": 1, "</script": 1, "<style": 1, "</style": 1, "<!--": 0} {
			if got := strings.Count(strings.ToLower(out), tag); got != n {
				t.Fatalf("%d × %q in %s", got, tag, out)
			}
		}
		title := out[len("<title>"):strings.Index(out, "</title>")]
		if html.UnescapeString(title) != name {
			t.Fatalf("title %q for name %q", title, name)
		}
		want := defaultPrimary
		if colour.MatchString(primary) {
			want = primary
		}
		if !strings.Contains(out, "<style>:root{--pt-primary:"+want+";") || !strings.Contains(out, `content="`+want+`">`) {
			t.Fatalf("primary %q did not become %s: %s", primary, want, out)
		}
		js := out[strings.Index(out, "window.__PAOTUI__=")+len("window.__PAOTUI__=") : strings.Index(out, ";</script>")]
		// A raw U+2028 or U+2029 ends a line inside a script in older engines (not in the title).
		if strings.ContainsAny(js, "\u2028\u2029") {
			t.Fatalf("raw line separator in the script: %q", js)
		}
		var b boot
		if err := json.Unmarshal([]byte(js), &b); err != nil {
			t.Fatalf("boot data %q: %v", js, err)
		}
		if b.Tenant.Branding.DisplayName != name || b.Tenant.Branding.Announcement != announcement {
			t.Fatalf("boot data changed the text: %+v", b.Tenant.Branding)
		}
	})
}
