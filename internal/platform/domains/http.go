package domains

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"github.com/paotui/paotui/internal/audit"
	"github.com/paotui/paotui/internal/httpx"
	"github.com/paotui/paotui/internal/platform/plans"
)

// problems is the HTTP meaning of the package's errors; a plan without custom domains answers
// plans' plan_limit_reached.
var problems = httpx.ProblemTable{
	httpx.Rule(ErrInvalidDomain, http.StatusUnprocessableEntity, "domain_invalid", ""),
	httpx.Rule(ErrPlatformDomain, http.StatusUnprocessableEntity, "domain_under_platform", ""),
	httpx.Rule(ErrDomainExists, http.StatusConflict, "domain_exists", "this domain was already added; verify it or delete it"),
	httpx.Rule(ErrDomainTaken, http.StatusConflict, "domain_taken", "another service uses this domain"),
	httpx.Rule(ErrTooManyDomains, http.StatusConflict, "too_many_domains", fmt.Sprintf("a service may have at most %d custom domains; delete one first", MaxPerTenant)),
	httpx.Rule(ErrDomainNotFound, http.StatusNotFound, "domain_not_found", "this service has no such domain"),
	httpx.Rule(ErrTXTMissing, http.StatusConflict, "domain_txt_missing",
		"no TXT record was found at the verification name yet; create it as shown and try again (DNS changes can take a while to appear)"),
	httpx.Rule(ErrTXTMismatch, http.StatusConflict, "domain_txt_mismatch",
		"the TXT record at the verification name does not hold this domain's value; copy the value exactly as shown"),
	httpx.Rule(ErrDNSUnavailable, http.StatusServiceUnavailable, "dns_unavailable", "DNS did not answer; try again in a minute"),
}

func mapErr(ctx context.Context, err error) error {
	if err == nil {
		return nil
	}
	if p := plans.Problem(ctx, err); p != err {
		return p
	}
	p, ok := problems.Map(err).(*httpx.Problem)
	if !ok {
		return err
	}
	var ie *InvalidError
	if errors.As(err, &ie) {
		p.Detail = "domain: " + ie.Reason
		p.Errors = []*huma.ErrorDetail{{Location: "body.domain", Message: ie.Reason}}
	}
	return p
}

// RegisterHTTP adds the tenant owner's custom-domain operations (permission domains:manage).
// It is idempotent per api.
func RegisterHTTP(api huma.API, s *Service) {
	if !httpx.Once(api, "domains") {
		return
	}
	h := &handlers{s: s}
	tags := []string{"domains"}
	manage := httpx.Perm(httpx.ScopeTenant, "domains:manage")
	httpx.Register(api, huma.Operation{
		OperationID: "list-domains", Method: http.MethodGet, Path: "/api/v1/admin/domains", Tags: tags,
		Summary: "The service's custom domains, with the DNS records each needs",
	}, manage, h.list)
	httpx.Register(api, huma.Operation{
		OperationID: "add-domain", Method: http.MethodPost, Path: "/api/v1/admin/domains", Tags: tags,
		Summary: "Add a custom domain (pending until verified)",
		Description: "The answer holds the TXT record to create at _paotui.<domain>; then call verify-domain. " +
			"Needs a plan with custom domains (plan_limit_reached otherwise).",
		DefaultStatus: http.StatusCreated, Errors: []int{http.StatusConflict},
	}, manage, h.add)
	httpx.Register(api, huma.Operation{
		OperationID: "verify-domain", Method: http.MethodPost, Path: "/api/v1/admin/domains/{domain}/verify", Tags: tags,
		Summary:     "Check the domain's TXT record and start serving on it",
		Description: "Once verified, the service answers at the domain at once (point the domain at cnameTarget). Verifying a verified domain changes nothing.",
		Errors:      []int{http.StatusNotFound, http.StatusConflict, http.StatusServiceUnavailable},
	}, manage, h.verify)
	httpx.Register(api, huma.Operation{
		OperationID: "delete-domain", Method: http.MethodDelete, Path: "/api/v1/admin/domains/{domain}", Tags: tags,
		Summary: "Remove a custom domain; the service stops answering at it", DefaultStatus: http.StatusNoContent,
		Errors: []int{http.StatusNotFound},
	}, manage, h.delete)
}

type handlers struct{ s *Service }

func by(ctx context.Context) audit.Entry {
	p, _ := httpx.PrincipalFrom(ctx)
	return audit.Entry{Actor: p.Actor(), IP: httpx.ClientIP(ctx)}
}

type domainListInput struct {
	Limit  int `query:"limit" minimum:"1" maximum:"20" default:"20"`
	Offset int `query:"offset" minimum:"0" maximum:"1000" default:"0"`
}

type domainListOutput struct {
	Body struct {
		Items []CustomDomain `json:"items"`
		Total int64          `json:"total"`
	}
}

func (h *handlers) list(ctx context.Context, in *domainListInput) (*domainListOutput, error) {
	items, total, err := h.s.List(ctx, httpx.HostFrom(ctx).Tenant, in.Limit, in.Offset)
	if err != nil {
		return nil, mapErr(ctx, err)
	}
	out := &domainListOutput{}
	out.Body.Items, out.Body.Total = items, total
	return out, nil
}

type addDomainInput struct {
	Body struct {
		Domain string `json:"domain" minLength:"1" maxLength:"254" example:"paotui.example-university.cn"`
	}
}

type domainOutput struct{ Body CustomDomain }

func (h *handlers) add(ctx context.Context, in *addDomainInput) (*domainOutput, error) {
	d, err := h.s.Add(ctx, httpx.HostFrom(ctx).Tenant, in.Body.Domain, by(ctx))
	if err != nil {
		return nil, mapErr(ctx, err)
	}
	return &domainOutput{Body: d}, nil
}

type domainPath struct {
	Domain string `path:"domain" maxLength:"254" example:"paotui.example-university.cn"`
}

func (h *handlers) verify(ctx context.Context, in *domainPath) (*domainOutput, error) {
	d, err := h.s.Verify(ctx, httpx.HostFrom(ctx).Tenant, in.Domain, by(ctx))
	if err != nil {
		return nil, mapErr(ctx, err)
	}
	return &domainOutput{Body: d}, nil
}

func (h *handlers) delete(ctx context.Context, in *domainPath) (*struct{}, error) {
	if err := h.s.Delete(ctx, httpx.HostFrom(ctx).Tenant, in.Domain, by(ctx)); err != nil {
		return nil, mapErr(ctx, err)
	}
	return &struct{}{}, nil
}
