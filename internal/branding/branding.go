package branding

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/danielgtaylor/huma/v2"
	"gorm.io/gorm"

	"github.com/paotui/paotui/internal/audit"
	"github.com/paotui/paotui/internal/httpx"
	"github.com/paotui/paotui/internal/platform/tenancy"
	"github.com/paotui/paotui/internal/storage"
	"github.com/paotui/paotui/internal/store"
)

// Branding is a tenant's look. Name is the tenant's display name (the registry's).
type Branding struct {
	Name         string `json:"name" minLength:"1" maxLength:"100"`
	PrimaryColor string `json:"primaryColor" pattern:"^#[0-9a-fA-F]{6}$" example:"#1677ff"`
	AccentColor  string `json:"accentColor" pattern:"^#[0-9a-fA-F]{6}$" example:"#ff7a00"`
	LogoURL      string `json:"logoUrl,omitempty" maxLength:"500" doc:"https URL of the logo, or the uploaded logo (upload-logo)."`
	ServicePhone string `json:"servicePhone,omitempty" maxLength:"20" doc:"The team's public service number."`
	Announcement string `json:"announcement,omitempty" maxLength:"300"`
	// Maps draw places, zones and couriers over these tiles; without a URL the apps draw them on
	// a plain background (no tile server is assumed: many campuses cannot reach a public one).
	MapTileURL     string `json:"mapTileUrl,omitempty" maxLength:"300" doc:"Tile URL template with {z}, {x} and {y} (and optionally {s}), https; empty draws maps without tiles." example:"https://tile.openstreetmap.org/{z}/{x}/{y}.png"`
	MapAttribution string `json:"mapAttribution,omitempty" maxLength:"200" doc:"Credit line the tile provider requires, shown on every map."`
}

// View is what clients get: the branding plus the tenant's slug and status (a suspended tenant
// still shows its brand on the "service paused" page).
type View struct {
	Branding
	Slug   string `json:"slug"`
	Status string `json:"status"`
}

// ErrInvalid is returned for branding that breaks a rule; the message names the field.
var ErrInvalid = errors.New("invalid branding")

var (
	colour = regexp.MustCompile(`^#[0-9a-fA-F]{6}$`)
	phone  = regexp.MustCompile(`^[0-9+\- ]{3,20}$`)
)

func (b *Branding) validate() error {
	b.Name = strings.TrimSpace(b.Name)
	if n := utf8.RuneCountInString(b.Name); n < 1 || n > 100 {
		return fmt.Errorf("%w: name must be 1-100 characters", ErrInvalid)
	}
	if !colour.MatchString(b.PrimaryColor) || !colour.MatchString(b.AccentColor) {
		return fmt.Errorf("%w: colours must look like #1677ff", ErrInvalid)
	}
	if b.LogoURL != "" && !isUploadedLogo(b.LogoURL) {
		u, err := url.Parse(b.LogoURL)
		if err != nil || u.Scheme != "https" || u.Host == "" {
			return fmt.Errorf("%w: logoUrl must be an https URL (or the uploaded logo)", ErrInvalid)
		}
	}
	if b.ServicePhone != "" && !phone.MatchString(b.ServicePhone) {
		return fmt.Errorf("%w: servicePhone may hold digits, +, - and spaces", ErrInvalid)
	}
	b.MapTileURL = strings.TrimSpace(b.MapTileURL)
	b.MapAttribution = strings.TrimSpace(b.MapAttribution)
	if b.MapTileURL != "" {
		if err := validTileURL(b.MapTileURL); err != nil {
			return err
		}
	}
	if strings.ContainsAny(b.MapAttribution, "<>") {
		return fmt.Errorf("%w: mapAttribution is plain text (no < or >)", ErrInvalid)
	}
	return nil
}

// validTileURL accepts an https template naming {z}, {x} and {y}: the pages' CSP lets images
// come from any https server, and a template without the three would fetch one tile everywhere.
func validTileURL(s string) error {
	u, err := url.Parse(strings.NewReplacer("{s}", "a", "{z}", "0", "{x}", "0", "{y}", "0", "{r}", "").Replace(s))
	if err != nil || u.Scheme != "https" || u.Host == "" {
		return fmt.Errorf("%w: mapTileUrl must be an https URL", ErrInvalid)
	}
	for _, p := range []string{"{z}", "{x}", "{y}"} {
		if !strings.Contains(s, p) {
			return fmt.Errorf("%w: mapTileUrl must contain {z}, {x} and {y}", ErrInvalid)
		}
	}
	return nil
}

// Service reads and changes branding.
type Service struct {
	db       *store.DB
	reg      *tenancy.Registry
	resolver *tenancy.Resolver
	files    storage.Store // uploaded logos (WithFiles)
}

// NewService wires the branding service.
func NewService(db *store.DB, reg *tenancy.Registry, resolver *tenancy.Resolver) *Service {
	return &Service{db: db, reg: reg, resolver: resolver}
}

type doc struct {
	PrimaryColor   string `json:"primaryColor"`
	AccentColor    string `json:"accentColor"`
	LogoURL        string `json:"logoUrl,omitempty"`
	ServicePhone   string `json:"servicePhone"`
	Announcement   string `json:"announcement"`
	MapTileURL     string `json:"mapTileUrl,omitempty"`
	MapAttribution string `json:"mapAttribution,omitempty"`
}

// Get returns t's branding.
func (s *Service) Get(ctx context.Context, t *tenancy.Tenant) (*View, error) {
	v := &View{Branding: Branding{Name: t.Name, PrimaryColor: "#1677ff", AccentColor: "#ff7a00"}, Slug: t.Slug, Status: string(t.Status)}
	err := s.db.InTenant(ctx, t, func(tx *gorm.DB) error {
		var rows []struct{ Value json.RawMessage }
		if err := tx.Raw(`SELECT value FROM settings WHERE key = 'branding'`).Scan(&rows).Error; err != nil {
			return err
		}
		if len(rows) == 0 {
			return nil
		}
		var d doc
		if err := json.Unmarshal(rows[0].Value, &d); err != nil {
			return err
		}
		v.PrimaryColor, v.AccentColor, v.LogoURL, v.ServicePhone, v.Announcement = d.PrimaryColor, d.AccentColor, d.LogoURL, d.ServicePhone, d.Announcement
		v.MapTileURL, v.MapAttribution = d.MapTileURL, d.MapAttribution
		return nil
	})
	return v, err
}

// Update replaces t's branding; the display name lives in the registry (control plane), the
// rest in the tenant's settings. Both change together or not at all, and every replica's host
// cache hears of the new name.
func (s *Service) Update(ctx context.Context, t *tenancy.Tenant, b Branding, actor, ip string) (*View, error) {
	if err := b.validate(); err != nil {
		return nil, err
	}
	raw, _ := json.Marshal(doc{PrimaryColor: b.PrimaryColor, AccentColor: b.AccentColor, LogoURL: b.LogoURL,
		ServicePhone: b.ServicePhone, Announcement: b.Announcement, MapTileURL: b.MapTileURL, MapAttribution: b.MapAttribution})
	err := s.db.InTenant(ctx, t, func(tx *gorm.DB) error {
		if err := tx.Exec(`INSERT INTO settings (key, value, updated_at) VALUES ('branding', ?, now())
			ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = now()`, string(raw)).Error; err != nil {
			return err
		}
		if b.Name != t.Name {
			// public.tenants is schema-qualified, so it is reachable inside the tenant transaction.
			if err := s.reg.Rename(tx, t.ID, b.Name); err != nil {
				return err
			}
		}
		return audit.Record(tx, audit.Entry{Actor: actor, Action: "settings.branding.update", Target: "branding", IP: ip})
	})
	if err != nil {
		return nil, err
	}
	_ = s.resolver.Invalidate(ctx, t.ID)
	nt := *t
	nt.Name = b.Name
	return s.Get(ctx, &nt)
}

// RegisterHTTP adds get-branding (public, also while suspended) and update-branding.
func RegisterHTTP(api huma.API, s *Service) {
	public := httpx.Public(httpx.ScopeTenant)
	public.WhileSuspended = true
	httpx.Register(api, huma.Operation{OperationID: "get-branding", Method: http.MethodGet, Path: "/api/v1/branding", Tags: []string{"branding"},
		Summary: "The service's name, colours, logo, service phone and announcement (public; also while paused)"},
		public, func(ctx context.Context, _ *struct{}) (*viewOutput, error) {
			v, err := s.Get(ctx, httpx.HostFrom(ctx).Tenant)
			if err != nil {
				return nil, err
			}
			return &viewOutput{Body: v}, nil
		})
	registerLogo(api, s, public)
	httpx.Register(api, huma.Operation{OperationID: "update-branding", Method: http.MethodPut, Path: "/api/v1/admin/branding", Tags: []string{"branding"},
		Summary: "Change the service's display name, colours, logo URL, service phone and announcement"},
		httpx.Perm(httpx.ScopeTenant, "settings:write"), func(ctx context.Context, in *updateInput) (*viewOutput, error) {
			p, _ := httpx.PrincipalFrom(ctx)
			v, err := s.Update(ctx, httpx.HostFrom(ctx).Tenant, in.Body, p.Actor(), httpx.ClientIP(ctx))
			if errors.Is(err, ErrInvalid) {
				return nil, httpx.NewProblem(http.StatusUnprocessableEntity, "branding_invalid", "%s", strings.TrimPrefix(err.Error(), ErrInvalid.Error()+": "))
			}
			if err != nil {
				return nil, err
			}
			return &viewOutput{Body: v}, nil
		})
}

type viewOutput struct{ Body *View }
type updateInput struct{ Body Branding }
