package settings

import (
	"context"
	"errors"
	"net/http"

	"github.com/danielgtaylor/huma/v2"
	"gorm.io/gorm"

	"github.com/paotui/paotui/internal/audit"
	"github.com/paotui/paotui/internal/httpx"
	"github.com/paotui/paotui/internal/platform/tenancy"
	"github.com/paotui/paotui/internal/store"
)

// Service reads and changes a tenant's business rules.
type Service struct{ db *store.DB }

// NewService uses db.
func NewService(db *store.DB) *Service { return &Service{db: db} }

// Get returns t's rules.
func (s *Service) Get(ctx context.Context, t *tenancy.Tenant) (Business, error) {
	var b Business
	err := s.db.InTenant(ctx, t, func(tx *gorm.DB) error {
		var err error
		b, err = Load(tx)
		return err
	})
	return b, err
}

// Update replaces t's rules as a whole and audits which documents changed.
func (s *Service) Update(ctx context.Context, t *tenancy.Tenant, b Business, actor, ip string) (Business, error) {
	err := s.db.InTenant(ctx, t, func(tx *gorm.DB) error {
		changed, err := Save(tx, b)
		if err != nil || len(changed) == 0 {
			return err
		}
		return audit.Record(tx, audit.Entry{Actor: actor, Action: "settings.business.update", Target: "settings", IP: ip,
			Meta: map[string]any{"changed": changed}})
	})
	if err != nil {
		return Business{}, err
	}
	return s.Get(ctx, t)
}

// RegisterHTTP adds get-business-settings and update-business-settings.
func RegisterHTTP(api huma.API, s *Service) {
	httpx.Register(api, huma.Operation{OperationID: "get-business-settings", Method: http.MethodGet, Path: "/api/v1/admin/settings/business",
		Tags: []string{"settings"}, Summary: "Commission split, payment and cancellation rules, surcharges, payment methods, dispatch mode"},
		httpx.Perm(httpx.ScopeTenant, "settings:read"), func(ctx context.Context, _ *struct{}) (*businessOutput, error) {
			b, err := s.Get(ctx, httpx.HostFrom(ctx).Tenant)
			if err != nil {
				return nil, err
			}
			return &businessOutput{Body: b}, nil
		})
	httpx.Register(api, huma.Operation{OperationID: "update-business-settings", Method: http.MethodPut, Path: "/api/v1/admin/settings/business",
		Tags: []string{"settings"}, Summary: "Replace the business rules (validated as a whole; audited)"},
		httpx.Perm(httpx.ScopeTenant, "settings:write"), func(ctx context.Context, in *businessInput) (*businessOutput, error) {
			p, _ := httpx.PrincipalFrom(ctx)
			b, err := s.Update(ctx, httpx.HostFrom(ctx).Tenant, in.Body, p.Actor(), httpx.ClientIP(ctx))
			var fe *FieldError
			if errors.As(err, &fe) {
				pr := httpx.NewProblem(http.StatusUnprocessableEntity, "settings_invalid", "%s", fe.Reason)
				pr.Errors = []*huma.ErrorDetail{{Location: "body." + fe.Field, Message: fe.Reason}}
				return nil, pr
			}
			if err != nil {
				return nil, err
			}
			return &businessOutput{Body: b}, nil
		})
}

type businessInput struct{ Body Business }
type businessOutput struct{ Body Business }
