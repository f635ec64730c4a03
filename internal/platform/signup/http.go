package signup

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/danielgtaylor/huma/v2"

	"github.com/paotui/paotui/internal/httpx"
	"github.com/paotui/paotui/internal/identity"
	"github.com/paotui/paotui/internal/platform/billing"
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

// problems is the HTTP meaning of the signup's errors; identity's (phone, code, rate limit),
// the plans' and billing's pass through their own tables.
var problems = httpx.ProblemTable{
	httpx.Rule(ErrSubdomainInvalid, http.StatusUnprocessableEntity, "subdomain_invalid", ""),
	httpx.Rule(ErrSubdomainReserved, http.StatusConflict, "subdomain_reserved", ""),
	httpx.Rule(ErrSubdomainTaken, http.StatusConflict, "subdomain_taken", ""),
	httpx.Rule(ErrInvalid, http.StatusUnprocessableEntity, "signup_invalid", ""),
	httpx.Rule(ErrNotFound, http.StatusNotFound, "signup_not_found", "no such signup"),
}

func mapErr(err error) error {
	var le *LimitError
	if errors.As(err, &le) {
		return httpx.NewProblem(http.StatusTooManyRequests, "signup_rate_limited",
			"too many signups from this %s; try again later", map[string]string{"ip": "network", "phone": "phone number"}[le.Which]).
			WithRetryAfter(le.RetryAfter)
	}
	if p := problems.Map(err); p != err {
		return p
	}
	if p := billing.Problems.Map(err); p != err {
		return p
	}
	return identity.Problem(err)
}

type signupCodeInput struct {
	Body struct {
		Phone string `json:"phone" minLength:"1" maxLength:"20" doc:"The owner's mainland mobile number."`
	}
}

type signupCodeOutput struct {
	Body struct {
		ResendAfterSeconds int `json:"resendAfterSeconds"`
	}
}

type signupInput struct {
	Body struct {
		TeamName  string           `json:"teamName" minLength:"1" maxLength:"100" example:"北苑跑腿社"`
		Subdomain string           `json:"subdomain" minLength:"1" maxLength:"63" example:"beiyuan"`
		School    string           `json:"school" minLength:"1" maxLength:"100" doc:"The campus or school the team serves." example:"北苑大学"`
		Phone     string           `json:"phone" minLength:"1" maxLength:"20" doc:"The owner's phone; becomes the owner account."`
		Code      string           `json:"code" minLength:"1" maxLength:"10" doc:"The code send-signup-code texted to the phone."`
		OwnerName string           `json:"ownerName,omitempty" maxLength:"50"`
		PlanID    string           `json:"planId" minLength:"1" maxLength:"40"`
		Interval  billing.Interval `json:"interval,omitempty" enum:"month,year" default:"month"`
	}
}

type statusOutput struct {
	Body SignupStatus
}

// RegisterHTTP adds the signup operations on the base host: check-subdomain, send-signup-code,
// signup and get-signup-status.
func RegisterHTTP(api huma.API, reg *tenancy.Registry, s *Service) {
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
	if s == nil {
		return
	}
	httpx.Register(api, huma.Operation{OperationID: "send-signup-code", Method: http.MethodPost, Path: "/api/v1/signup/sms-code",
		Tags: []string{"signup"}, Summary: "Text the owner's phone a code that proves it for the signup",
		Errors: []int{http.StatusUnprocessableEntity, http.StatusTooManyRequests}},
		httpx.Public(httpx.ScopeBase), func(ctx context.Context, in *signupCodeInput) (*signupCodeOutput, error) {
			wait, err := s.SendCode(ctx, in.Body.Phone, httpx.ClientIP(ctx))
			if err != nil {
				return nil, mapErr(err)
			}
			out := &signupCodeOutput{}
			out.Body.ResendAfterSeconds = int(wait.Seconds())
			return out, nil
		})
	httpx.Register(api, huma.Operation{OperationID: "signup", Method: http.MethodPost, Path: "/api/v1/signup",
		Tags: []string{"signup"}, Summary: "Sign a campus team up: a tenant on its subdomain with the chosen plan",
		Description: "Answers 202 at once with the signup's status; poll get-signup-status until ready (the admin is live " +
			"at adminUrl). A plan with a trial starts without payment; a paid plan without one shows checkoutUrl, and the " +
			"team's service opens when Stripe confirms the payment. Limited per client address and per phone.",
		DefaultStatus: http.StatusAccepted,
		Errors: []int{http.StatusUnauthorized, http.StatusNotFound, http.StatusConflict, http.StatusUnprocessableEntity,
			http.StatusTooManyRequests}},
		httpx.Public(httpx.ScopeBase), func(ctx context.Context, in *signupInput) (*statusOutput, error) {
			b := in.Body
			st, err := s.Signup(ctx, Request{TeamName: b.TeamName, Subdomain: b.Subdomain, School: b.School, Phone: b.Phone,
				Code: b.Code, PlanID: b.PlanID, Interval: b.Interval, OwnerName: b.OwnerName, IP: httpx.ClientIP(ctx)})
			if err != nil {
				return nil, mapErr(err)
			}
			return &statusOutput{Body: *st}, nil
		})
	httpx.Register(api, huma.Operation{OperationID: "get-signup-status", Method: http.MethodGet, Path: "/api/v1/signup/{signupId}",
		Tags: []string{"signup"}, Summary: "How far a signup got: provisioning, payment, and whether the admin is live",
		Errors: []int{http.StatusNotFound}},
		httpx.Public(httpx.ScopeBase), func(ctx context.Context, in *struct {
			SignupID string `path:"signupId" maxLength:"36"`
		}) (*statusOutput, error) {
			st, err := s.Status(ctx, in.SignupID)
			if err != nil {
				return nil, mapErr(err)
			}
			return &statusOutput{Body: *st}, nil
		})
}
