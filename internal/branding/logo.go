package branding

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/danielgtaylor/huma/v2"
	"gorm.io/gorm"

	"github.com/paotui/paotui/internal/audit"
	"github.com/paotui/paotui/internal/httpx"
	"github.com/paotui/paotui/internal/platform/tenancy"
	"github.com/paotui/paotui/internal/storage"
)

// MaxLogoBytes is the largest logo accepted: a logo is shown small on every screen, and every
// client downloads it.
const MaxLogoBytes = 512 << 10

// LogoPath is where a tenant's uploaded logo is served; branding's logoUrl points at it with a
// version parameter, so a new upload is never hidden by a cache.
const LogoPath = "/api/v1/branding/logo"

// Logo errors.
var (
	ErrLogoTooLarge = errors.New("the logo is larger than 512 KiB")
	ErrLogoType     = errors.New("the logo must be a PNG, JPEG or WebP image")
	ErrNoLogo       = errors.New("this service has not uploaded a logo")
)

// logoTypes are the images accepted, judged from the bytes. SVG is left out on purpose: it can
// carry script, and the logo is served from the tenant's own origin.
var logoTypes = map[string]bool{"image/png": true, "image/jpeg": true, "image/webp": true}

// WithFiles lets owners upload a logo, kept in files.
func (s *Service) WithFiles(files storage.Store) *Service {
	s.files = files
	return s
}

func logoKey(tenantID int64) string { return fmt.Sprintf("t/%d/branding/logo", tenantID) }

// UploadLogo stores img as t's logo and points the branding at it.
func (s *Service) UploadLogo(ctx context.Context, t *tenancy.Tenant, img []byte, actor, ip string) (*View, error) {
	if len(img) > MaxLogoBytes {
		return nil, ErrLogoTooLarge
	}
	ct := http.DetectContentType(img)
	if !logoTypes[ct] {
		return nil, ErrLogoType
	}
	if s.files == nil {
		return nil, ErrNoLogo
	}
	if err := s.files.Put(ctx, logoKey(t.ID), ct, bytes.NewReader(img), int64(len(img))); err != nil {
		return nil, err
	}
	sum := sha256.Sum256(img)
	url := LogoPath + "?v=" + hex.EncodeToString(sum[:6])
	err := s.db.InTenant(ctx, t, func(tx *gorm.DB) error {
		// Only the logo changes; the other fields keep what the owner set.
		patch, _ := json.Marshal(map[string]string{"logoUrl": url})
		if err := tx.Exec(`INSERT INTO settings (key, value, updated_at) VALUES ('branding', ?::jsonb, now())
			ON CONFLICT (key) DO UPDATE SET value = settings.value || excluded.value, updated_at = now()`, string(patch)).Error; err != nil {
			return err
		}
		return audit.Record(tx, audit.Entry{Actor: actor, Action: "settings.branding.logo", Target: "branding", IP: ip,
			Meta: map[string]any{"contentType": ct, "bytes": len(img)}})
	})
	if err != nil {
		return nil, err
	}
	return s.Get(ctx, t)
}

// Logo opens t's uploaded logo.
func (s *Service) Logo(ctx context.Context, t *tenancy.Tenant) (io.ReadCloser, storage.Info, error) {
	if s.files == nil {
		return nil, storage.Info{}, ErrNoLogo
	}
	rc, info, err := s.files.Open(ctx, logoKey(t.ID))
	if errors.Is(err, storage.ErrNotFound) {
		return nil, info, ErrNoLogo
	}
	return rc, info, err
}

var logoProblems = httpx.ProblemTable{
	httpx.Rule(ErrLogoTooLarge, http.StatusRequestEntityTooLarge, "logo_too_large", ""),
	httpx.Rule(ErrLogoType, http.StatusUnsupportedMediaType, "logo_type", ""),
	httpx.Rule(ErrNoLogo, http.StatusNotFound, "logo_not_found", ""),
}

type logoUploadInput struct {
	RawBody []byte `contentType:"image/png"`
}

type logoOutput struct {
	ContentType  string `header:"Content-Type"`
	CacheControl string `header:"Cache-Control"`
	Body         []byte
}

// registerLogo adds upload-logo (owner) and get-branding-logo (public, also while paused).
func registerLogo(api huma.API, s *Service, public httpx.Access) {
	httpx.Register(api, huma.Operation{OperationID: "upload-logo", Method: http.MethodPut, Path: "/api/v1/admin/branding/logo", Tags: []string{"branding"},
		Summary:     "Upload the service's logo: the image itself as the request body",
		Description: "PNG, JPEG or WebP (judged from the bytes), at most 512 KiB. branding's logoUrl then points at get-branding-logo.",
		Errors:      []int{http.StatusRequestEntityTooLarge, http.StatusUnsupportedMediaType}},
		httpx.Perm(httpx.ScopeTenant, "settings:write"), func(ctx context.Context, in *logoUploadInput) (*viewOutput, error) {
			p, _ := httpx.PrincipalFrom(ctx)
			v, err := s.UploadLogo(ctx, httpx.HostFrom(ctx).Tenant, in.RawBody, p.Actor(), httpx.ClientIP(ctx))
			if err != nil {
				return nil, logoProblems.Map(err)
			}
			return &viewOutput{Body: v}, nil
		})
	httpx.Register(api, huma.Operation{OperationID: "get-branding-logo", Method: http.MethodGet, Path: LogoPath, Tags: []string{"branding"},
		Summary: "The service's uploaded logo (public; also while paused)", Errors: []int{http.StatusNotFound},
		Responses: map[string]*huma.Response{"200": {Description: "The image.", Content: map[string]*huma.MediaType{
			"image/png": {}, "image/jpeg": {}, "image/webp": {}}}}},
		public, func(ctx context.Context, _ *struct{}) (*logoOutput, error) {
			rc, info, err := s.Logo(ctx, httpx.HostFrom(ctx).Tenant)
			if err != nil {
				return nil, logoProblems.Map(err)
			}
			defer rc.Close()
			img, err := io.ReadAll(io.LimitReader(rc, MaxLogoBytes+1))
			if err != nil {
				return nil, err
			}
			// logoUrl carries a version, so the image behind one URL never changes.
			return &logoOutput{ContentType: info.ContentType, CacheControl: "public, max-age=86400", Body: img}, nil
		})
}

// isUploadedLogo reports whether url is the logo this service serves (update-branding keeps it).
func isUploadedLogo(url string) bool { return strings.HasPrefix(url, LogoPath+"?v=") }
