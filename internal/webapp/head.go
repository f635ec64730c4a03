package webapp

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"html"
	"regexp"

	"github.com/paotui/paotui/internal/branding"
	"github.com/paotui/paotui/internal/platform/tenancy"
)

// Marker is the comment every app's index.html carries in its <head>; the server replaces it
// with the page's title, theme colours and boot data.
const Marker = "<!--paotui:head-->"

// The colours a tenant starts with (branding's defaults), used where a tenant's cannot be read
// and on the base and platform hosts.
const (
	defaultPrimary = "#1677ff"
	defaultAccent  = "#ff7a00"
)

// Titles of the hosts that are not a tenant's; tenant pages carry the tenant's name.
const (
	baseTitle     = "跑腿 Paotui"
	platformTitle = "Paotui 平台管理"
)

// boot is window.__PAOTUI__: what an app knows before its first request.
type boot struct {
	Host    bootHost    `json:"host"`
	Tenant  *bootTenant `json:"tenant"` // null outside tenant hosts
	Locale  string      `json:"locale"`
	APIBase string      `json:"apiBase"`
}

type bootHost struct {
	Kind string `json:"kind"` // base, platform or tenant
}

type bootTenant struct {
	Slug     string       `json:"slug"`
	Name     string       `json:"name"`
	Status   string       `json:"status"` // active or suspended (others never get a page)
	Hold     *string      `json:"hold"`   // who suspended it: billing, platform or deletion
	Branding bootBranding `json:"branding"`
}

type bootBranding struct {
	DisplayName    string `json:"displayName"`
	PrimaryColor   string `json:"primaryColor"`
	AccentColor    string `json:"accentColor"`
	LogoURL        string `json:"logoUrl"`
	ServicePhone   string `json:"servicePhone"`
	Announcement   string `json:"announcement"`
	MapTileURL     string `json:"mapTileUrl,omitempty"`
	MapAttribution string `json:"mapAttribution,omitempty"`
}

// newBoot describes host; v is the tenant's branding, nil when it could not be read.
func newBoot(host tenancy.Host, v *branding.View) boot {
	b := boot{Locale: "zh-CN", APIBase: "/api/v1"}
	switch host.Kind {
	case tenancy.KindBase:
		b.Host.Kind = "base"
	case tenancy.KindPlatform:
		b.Host.Kind = "platform"
	case tenancy.KindTenant:
		b.Host.Kind = "tenant"
		t := host.Tenant
		bt := &bootTenant{Slug: t.Slug, Name: t.Name, Status: string(t.Status),
			Branding: bootBranding{DisplayName: t.Name, PrimaryColor: defaultPrimary, AccentColor: defaultAccent}}
		if t.Hold != tenancy.HoldNone {
			hold := string(t.Hold)
			bt.Hold = &hold
		}
		if v != nil {
			bt.Branding = bootBranding{DisplayName: v.Name, PrimaryColor: v.PrimaryColor, AccentColor: v.AccentColor,
				LogoURL: v.LogoURL, ServicePhone: v.ServicePhone, Announcement: v.Announcement,
				MapTileURL: v.MapTileURL, MapAttribution: v.MapAttribution}
		}
		b.Tenant = bt
	}
	return b
}

// head is what replaces the marker, and the CSP hash of its script.
type head struct {
	html       []byte
	scriptHash string
}

var colour = regexp.MustCompile(`^#[0-9a-fA-F]{6}$`)

// render writes b as the head. Tenant-chosen text is escaped for where it lands: the title as
// HTML text; the boot data as JSON, which json.Marshal already makes safe inside a script
// element (it writes <, > and & as \u003c, \u003e, \u0026, so no "</script>" or "<!--" can
// appear, and U+2028/U+2029 as escapes). Colours go into CSS, so only #rrggbb passes.
func render(b boot) (head, error) {
	title, primary, accent := baseTitle, defaultPrimary, defaultAccent
	switch {
	case b.Tenant != nil:
		title = b.Tenant.Branding.DisplayName
		if colour.MatchString(b.Tenant.Branding.PrimaryColor) {
			primary = b.Tenant.Branding.PrimaryColor
		} else {
			b.Tenant.Branding.PrimaryColor = primary
		}
		if colour.MatchString(b.Tenant.Branding.AccentColor) {
			accent = b.Tenant.Branding.AccentColor
		} else {
			b.Tenant.Branding.AccentColor = accent
		}
	case b.Host.Kind == "platform":
		title = platformTitle
	}
	js, err := json.Marshal(b)
	if err != nil {
		return head{}, err
	}
	script := "window.__PAOTUI__=" + string(js) + ";"
	sum := sha256.Sum256([]byte(script))
	var out bytes.Buffer
	out.WriteString("<title>" + html.EscapeString(title) + "</title>\n")
	out.WriteString(`<meta name="theme-color" content="` + primary + `">` + "\n")
	out.WriteString("<style>:root{--pt-primary:" + primary + ";--pt-accent:" + accent + "}</style>\n")
	out.WriteString("<script>" + script + "</script>")
	return head{html: out.Bytes(), scriptHash: "sha256-" + base64.StdEncoding.EncodeToString(sum[:])}, nil
}

// inject puts hd in place of page's marker; a page without one gets it at the end of its head
// (Vite writes tags in lower case).
func inject(page, hd []byte) []byte {
	at, skip := bytes.Index(page, []byte(Marker)), len(Marker)
	if at < 0 {
		at, skip = bytes.Index(page, []byte("</head>")), 0
	}
	if at < 0 {
		at = 0
	}
	out := make([]byte, 0, len(page)+len(hd))
	out = append(out, page[:at]...)
	out = append(out, hd...)
	return append(out, page[at+skip:]...)
}
