package signup

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/danielgtaylor/huma/v2"

	"github.com/paotui/paotui/internal/httpx"
	"github.com/paotui/paotui/internal/platform/tenancy"
)

// Availability answers whether a subdomain can be had, and if not why.
type Availability struct {
	Slug      string `json:"slug" doc:"The subdomain as it would be used (lower case)."`
	Available bool   `json:"available"`
	Reason    string `json:"reason,omitempty" enum:"invalid,reserved,taken" doc:"Why it cannot be had."`
	Message   string `json:"message,omitempty"`
}

// Check tells whether slug is free: valid, not reserved, not taken.
func Check(ctx context.Context, reg *tenancy.Registry, slug string) (Availability, error) {
	slug = strings.ToLower(strings.TrimSpace(slug))
	a := Availability{Slug: slug}
	if err := tenancy.ValidateSlug(slug, reg.Reserved()); err != nil {
		a.Reason, a.Message = "invalid", tenancy.ErrSlugInvalid.Error()
		if errors.Is(err, tenancy.ErrSlugReserved) {
			a.Reason, a.Message = "reserved", "this subdomain is kept for the platform"
		}
		return a, nil
	}
	_, err := reg.BySlug(ctx, slug)
	switch {
	case err == nil:
		a.Reason, a.Message = "taken", "another team already uses this subdomain"
	case errors.Is(err, tenancy.ErrNotFound):
		a.Available = true
	default:
		return a, err
	}
	return a, nil
}

// RegisterHTTP adds check-subdomain on the base host.
func RegisterHTTP(api huma.API, reg *tenancy.Registry) {
	httpx.Register(api, huma.Operation{OperationID: "check-subdomain", Method: http.MethodGet, Path: "/api/v1/signup/subdomains/{slug}",
		Tags: []string{"signup"}, Summary: "Whether a subdomain can be had, with the reason when it cannot"},
		httpx.Public(httpx.ScopeBase), func(ctx context.Context, in *struct {
			Slug string `path:"slug" maxLength:"63"`
		}) (*struct{ Body Availability }, error) {
			a, err := Check(ctx, reg, in.Slug)
			if err != nil {
				return nil, err
			}
			return &struct{ Body Availability }{Body: a}, nil
		})
}
