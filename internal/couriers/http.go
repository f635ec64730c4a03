package couriers

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/paotui/paotui/internal/httpx"
	"github.com/paotui/paotui/internal/platform/tenancy"
)

// Problems is the HTTP meaning of the package's errors. Orders and dispatch map the gate's
// refusals (LockEligible) through it too.
var Problems = httpx.ProblemTable{
	httpx.Rule(ErrNotFound, http.StatusNotFound, "courier_profile_not_found", "no courier application for this user"),
	httpx.Rule(ErrInvalid, http.StatusUnprocessableEntity, "courier_application_invalid", ""),
	httpx.Rule(ErrAlreadyCourier, http.StatusConflict, "already_courier", ""),
	httpx.Rule(ErrStudentNoTaken, http.StatusConflict, "student_no_taken", ""),
	httpx.Rule(ErrReasonRequired, http.StatusUnprocessableEntity, "reason_required", "rejecting or suspending a courier needs a reason"),
	httpx.Rule(ErrBadTransition, http.StatusConflict, "courier_illegal_transition", ""),
	httpx.Rule(ErrNotApproved, http.StatusForbidden, "courier_not_approved", ""),
	httpx.Rule(ErrNotCourier, http.StatusForbidden, "courier_not_approved", ""),
	httpx.Rule(ErrSuspended, http.StatusForbidden, "courier_suspended", ""),
	httpx.Rule(ErrOffline, http.StatusConflict, "courier_offline", ""),
	httpx.Rule(ErrCreditTooLow, http.StatusForbidden, "courier_credit_too_low", ""),
}

// mapErr maps a domain error; an *InvalidError also names its field, and a *TransitionError
// says which move was refused.
func mapErr(err error) error {
	p, ok := Problems.Map(err).(*httpx.Problem)
	if !ok {
		return err
	}
	var ie *InvalidError
	if errors.As(err, &ie) {
		p.Detail = ie.Field + ": " + ie.Reason
		p.Errors = []*huma.ErrorDetail{{Location: "body." + ie.Field, Message: ie.Reason}}
		if ie.Field == "status" {
			p.Errors[0].Location = "query.status"
		}
	}
	var te *TransitionError
	if errors.As(err, &te) {
		p.Detail = te.Error()
	}
	return p
}

// RegisterHTTP adds the courier's application, availability and earnings operations and the
// staff's courier review. It is idempotent per api, so tests may add the operations to an
// application that already has them.
func RegisterHTTP(api huma.API, s *Service) {
	if !httpx.Once(api, "couriers") {
		return
	}
	h := &handlers{s: s}
	tenant := httpx.ScopeTenant
	tags := []string{"couriers"}
	httpx.Register(api, huma.Operation{OperationID: "apply-courier", Method: http.MethodPost, Path: "/api/v1/courier/application", Tags: tags,
		Summary:       "Apply to run errands, or update the application",
		Description:   "A pending application is updated in place; after a rejection the new one goes back to pending. The student number is unique per service.",
		DefaultStatus: http.StatusCreated, Errors: []int{http.StatusConflict}},
		httpx.Perm(tenant, "courier_application:create"), h.apply)
	httpx.Register(api, huma.Operation{OperationID: "get-my-courier-profile", Method: http.MethodGet, Path: "/api/v1/courier/profile", Tags: tags,
		Summary: "My courier application and availability", Errors: []int{http.StatusNotFound}},
		httpx.Perm(tenant, "courier_application:read"), h.mine)
	httpx.Register(api, huma.Operation{OperationID: "go-online", Method: http.MethodPost, Path: "/api/v1/courier/online", Tags: tags,
		Summary: "Start taking orders (approved couriers only)"},
		httpx.Perm(tenant, "trips:online"), h.goOnline)
	httpx.Register(api, huma.Operation{OperationID: "go-offline", Method: http.MethodPost, Path: "/api/v1/courier/offline", Tags: tags,
		Summary: "Stop taking orders", Errors: []int{http.StatusNotFound}},
		httpx.Perm(tenant, "trips:online"), h.goOffline)
	httpx.Register(api, huma.Operation{OperationID: "get-courier-earnings", Method: http.MethodGet, Path: "/api/v1/courier/earnings", Tags: tags,
		Summary:     "My balance, income today / this week / this month, ratings, on-time rate and income per order",
		Description: "Income per order is newest first; pass nextBefore as before for the next page."},
		httpx.Perm(tenant, "trips:earnings"), h.earnings)

	admin := []string{"admin-couriers"}
	httpx.Register(api, huma.Operation{OperationID: "list-couriers", Method: http.MethodGet, Path: "/api/v1/admin/couriers", Tags: admin,
		Summary: "Courier applications and couriers, in application order; names and student numbers masked"},
		httpx.Perm(tenant, "couriers:read"), h.list)
	httpx.Register(api, huma.Operation{OperationID: "get-courier", Method: http.MethodGet, Path: "/api/v1/admin/couriers/{userId}", Tags: admin,
		Summary: "One courier (masked) with their earnings figures", Errors: []int{http.StatusNotFound}},
		httpx.Perm(tenant, "couriers:read"), h.detail)
	for _, d := range []struct {
		decision Decision
		perm     string
		summary  string
	}{
		{Approve, "couriers:approve", "Approve a pending application: grants the courier role"},
		{Reject, "couriers:approve", "Reject a pending application, with a reason the applicant sees"},
		{Suspend, "couriers:suspend", "Suspend an approved courier, with a reason: they go offline and cannot take orders"},
		{Reinstate, "couriers:suspend", "Lift a courier's suspension"},
	} {
		httpx.Register(api, huma.Operation{OperationID: string(d.decision) + "-courier", Method: http.MethodPost,
			Path: "/api/v1/admin/couriers/{userId}/" + string(d.decision), Tags: admin, Summary: d.summary,
			Errors: []int{http.StatusNotFound, http.StatusConflict}},
			httpx.Perm(tenant, d.perm), h.decide(d.decision))
	}
}

type handlers struct{ s *Service }

func caller(ctx context.Context) (*tenancy.Tenant, string) {
	p, _ := httpx.PrincipalFrom(ctx)
	return httpx.HostFrom(ctx).Tenant, p.UserID
}

// courierApplication, courierProfile and courierEarnings give the OpenAPI schemas
// package-specific names.
type (
	courierApplication ApplyRequest
	courierProfile     Profile
	courierEarnings    Earnings
)

type courierProfileOutput struct{ Body *courierProfile }

type courierApplyInput struct{ Body courierApplication }

func (h *handlers) apply(ctx context.Context, in *courierApplyInput) (*courierProfileOutput, error) {
	t, me := caller(ctx)
	p, err := h.s.Apply(ctx, t, me, ApplyRequest(in.Body))
	if err != nil {
		return nil, mapErr(err)
	}
	return &courierProfileOutput{Body: (*courierProfile)(p)}, nil
}

// mine carries the ping interval too: an app reloaded while its courier is online resumes
// pinging without going online again.
func (h *handlers) mine(ctx context.Context, _ *struct{}) (*courierOnlineOutput, error) {
	t, me := caller(ctx)
	p, err := h.s.Get(ctx, t, me)
	if err != nil {
		return nil, mapErr(err)
	}
	return &courierOnlineOutput{Body: &courierOnline{Profile: *p, PingIntervalSeconds: h.pingIntervalSeconds()}}, nil
}

// courierOnline is go-online's and get-my-courier-profile's answer: the profile, and how often
// the app may send its position.
// Profile is embedded by its exported name: huma inlines only exported embedded structs.
type courierOnline struct {
	Profile
	PingIntervalSeconds int `json:"pingIntervalSeconds,omitempty" minimum:"1" doc:"The shortest time between two accepted location pings (tracking.ping_interval), rounded up to whole seconds: pings sent sooner are refused with location_too_frequent."`
}

type courierOnlineOutput struct{ Body *courierOnline }

// pingPacer is what the tracking service offers besides Positions. It is asserted rather than
// required so that services built without tracking (tests, tools) still go online.
type pingPacer interface{ MinInterval() time.Duration }

// pingIntervalSeconds rounds up: a client pinging at a rounded-down interval would be refused.
// Zero (left out of the answer) when no tracking service is wired.
func (h *handlers) pingIntervalSeconds() int {
	p, ok := h.s.positions.(pingPacer)
	if !ok {
		return 0
	}
	d := p.MinInterval()
	if d <= 0 {
		return 0
	}
	return int((d + time.Second - 1) / time.Second)
}

func (h *handlers) goOnline(ctx context.Context, _ *struct{}) (*courierOnlineOutput, error) {
	t, me := caller(ctx)
	p, err := h.s.GoOnline(ctx, t, me)
	if err != nil {
		return nil, mapErr(err)
	}
	return &courierOnlineOutput{Body: &courierOnline{Profile: *p, PingIntervalSeconds: h.pingIntervalSeconds()}}, nil
}

func (h *handlers) goOffline(ctx context.Context, _ *struct{}) (*courierProfileOutput, error) {
	t, me := caller(ctx)
	p, err := h.s.GoOffline(ctx, t, me)
	if err != nil {
		return nil, mapErr(err)
	}
	return &courierProfileOutput{Body: (*courierProfile)(p)}, nil
}

type courierEarningsInput struct {
	Limit  int   `query:"limit" minimum:"1" maximum:"100" default:"20"`
	Before int64 `query:"before" minimum:"0" doc:"nextBefore of the previous page; omit for the newest."`
}

type courierEarningsOutput struct{ Body *courierEarnings }

func (h *handlers) earnings(ctx context.Context, in *courierEarningsInput) (*courierEarningsOutput, error) {
	t, me := caller(ctx)
	e, err := h.s.Earnings(ctx, t, me, EarningsQuery{Limit: in.Limit, Before: in.Before})
	if err != nil {
		return nil, mapErr(err)
	}
	return &courierEarningsOutput{Body: (*courierEarnings)(e)}, nil
}

type courierListInput struct {
	Status string `query:"status" enum:"pending,approved,rejected,suspended," doc:"Only profiles in this status."`
	Online string `query:"online" enum:"true,false," doc:"Only couriers online (true) or offline (false)."`
	Limit  int    `query:"limit" minimum:"1" maximum:"100" default:"20"`
	Offset int    `query:"offset" minimum:"0" maximum:"100000" default:"0"`
}

type courierListOutput struct {
	Body struct {
		Items []courierProfile `json:"items"`
		Total int64            `json:"total"`
	}
}

func (h *handlers) list(ctx context.Context, in *courierListInput) (*courierListOutput, error) {
	t, _ := caller(ctx)
	f := ListFilter{Status: Status(in.Status), Limit: in.Limit, Offset: in.Offset}
	if in.Online != "" {
		on := in.Online == "true"
		f.Online = &on
	}
	items, total, err := h.s.List(ctx, t, f)
	if err != nil {
		return nil, mapErr(err)
	}
	out := &courierListOutput{}
	out.Body.Items, out.Body.Total = make([]courierProfile, len(items)), total
	for i := range items {
		out.Body.Items[i] = courierProfile(items[i])
	}
	return out, nil
}

type courierIDInput struct {
	UserID string `path:"userId" format:"uuid"`
}

type courierDetailOutput struct{ Body *CourierDetail }

func (h *handlers) detail(ctx context.Context, in *courierIDInput) (*courierDetailOutput, error) {
	t, _ := caller(ctx)
	d, err := h.s.Detail(ctx, t, in.UserID)
	if err != nil {
		return nil, mapErr(err)
	}
	return &courierDetailOutput{Body: d}, nil
}

type courierDecisionInput struct {
	UserID string `path:"userId" format:"uuid"`
	Body   *struct {
		Reason string `json:"reason,omitempty" maxLength:"200" doc:"Required to reject or suspend; the courier sees it."`
	} `required:"false"`
}

func (h *handlers) decide(d Decision) func(context.Context, *courierDecisionInput) (*courierProfileOutput, error) {
	return func(ctx context.Context, in *courierDecisionInput) (*courierProfileOutput, error) {
		t, me := caller(ctx)
		reason := ""
		if in.Body != nil {
			reason = in.Body.Reason
		}
		p, err := h.s.decide(ctx, t, d, me, in.UserID, reason)
		if err != nil {
			return nil, mapErr(err)
		}
		return &courierProfileOutput{Body: (*courierProfile)(p)}, nil
	}
}
