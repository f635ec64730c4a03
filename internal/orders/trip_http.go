package orders

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"github.com/paotui/paotui/internal/httpx"
	"github.com/paotui/paotui/internal/platform/tenancy"
)

// Locator gives a courier's last known position (nil when none is recent).
type Locator interface {
	CourierPosition(ctx context.Context, tenantID int64, courierID string) (*HallPoint, error)
}

// RegisterTripHTTP adds the courier's operations (hall, grab, trip steps, exceptions) and the
// staff's assignment operations.
func RegisterTripHTTP(api huma.API, s *Service, loc Locator) {
	h := &tripHandlers{s: s, loc: loc}
	tenant := httpx.ScopeTenant
	conflict := []int{http.StatusConflict, http.StatusNotFound}
	httpx.Register(api, huma.Operation{OperationID: "list-task-hall", Method: http.MethodGet, Path: "/api/v1/courier/hall", Tags: []string{"trips"},
		Summary:     "Open orders a courier may grab, nearest or best paid first",
		Description: "Distances are from the courier's last reported position (post-location). Details stay hidden until the order is taken."},
		httpx.Perm(tenant, "hall:read"), h.hall)
	httpx.Register(api, huma.Operation{OperationID: "grab-order", Method: http.MethodPost, Path: "/api/v1/orders/{orderId}/grab", Tags: []string{"trips"},
		Summary:     "Take an order from the hall; the first valid grab wins",
		Description: "Everyone else gets order_already_taken. The courier must be approved, online, under the tenant's concurrent-orders limit and credit threshold.",
		Errors:      conflict},
		httpx.Perm(tenant, "trips:grab"), h.grab)
	httpx.Register(api, huma.Operation{OperationID: "release-order", Method: http.MethodPost, Path: "/api/v1/orders/{orderId}/release", Tags: []string{"trips"},
		Summary: "Give an accepted order back to the hall before pickup, with a reason", Errors: conflict},
		httpx.Perm(tenant, "trips:release"), h.release)
	httpx.Register(api, huma.Operation{OperationID: "pickup-order", Method: http.MethodPost, Path: "/api/v1/orders/{orderId}/pickup", Tags: []string{"trips"},
		Summary: "Confirm the item is picked up (with the pickup code where the student gave one)", Errors: conflict},
		httpx.Perm(tenant, "trips:pickup"), h.pickup)
	httpx.Register(api, huma.Operation{OperationID: "deliver-order", Method: http.MethodPost, Path: "/api/v1/orders/{orderId}/deliver", Tags: []string{"trips"},
		Summary:     "Confirm delivery with the student's delivery code, or a photo",
		Description: "Wrong codes are counted: after 5 the code is locked (delivery_code_locked) and the order is flagged for staff.",
		Errors:      []int{http.StatusConflict, http.StatusNotFound, http.StatusLocked}},
		httpx.Perm(tenant, "trips:deliver"), h.deliver)
	httpx.Register(api, huma.Operation{OperationID: "report-exception", Method: http.MethodPost, Path: "/api/v1/orders/{orderId}/exception", Tags: []string{"trips"},
		Summary:     "Report a problem on the road: can't find the item, shop closed, student unreachable, item damaged or lost",
		Description: "Flags the order; staff and the student see it live. Staff resume, reassign, or cancel and refund.",
		Errors:      conflict},
		httpx.Perm(tenant, "trips:exception"), h.report)
	httpx.Register(api, huma.Operation{OperationID: "list-my-trips", Method: http.MethodGet, Path: "/api/v1/courier/orders", Tags: []string{"trips"},
		Summary: "The courier's orders, newest first (active ones by default)"},
		httpx.Perm(tenant, "trips:read"), h.trips)
	httpx.Register(api, huma.Operation{OperationID: "get-trip", Method: http.MethodGet, Path: "/api/v1/courier/orders/{orderId}", Tags: []string{"trips"},
		Summary:     "One of the courier's orders with its timeline, form values and the student's masked phone",
		Description: "The delivery code is never shown to the courier.", Errors: []int{http.StatusNotFound}},
		httpx.Perm(tenant, "trips:read"), h.trip)
	// Staff.
	httpx.Register(api, huma.Operation{OperationID: "assign-order", Method: http.MethodPost, Path: "/api/v1/admin/orders/{orderId}/assign", Tags: []string{"admin-orders"},
		Summary: "Assign an order to a courier, reassign it (with a reason), or put it back in the hall (no courier, with a reason)",
		Errors:  conflict},
		httpx.Perm(tenant, "orders:assign"), h.assign)
	httpx.Register(api, huma.Operation{OperationID: "reassign-orders", Method: http.MethodPost, Path: "/api/v1/admin/orders/reassign", Tags: []string{"admin-orders"},
		Summary:     "Reassign several orders at once (a courier fell ill): to one courier, or back to the hall",
		Description: "Each order succeeds or fails on its own; the answer lists every order's outcome."},
		httpx.Perm(tenant, "orders:assign"), h.reassignMany)
	httpx.Register(api, huma.Operation{OperationID: "resolve-exception", Method: http.MethodPost, Path: "/api/v1/admin/orders/{orderId}/exception/resolve", Tags: []string{"admin-orders"},
		Summary: "End an exception: resume, reassign (to a courier or the hall) or cancel and refund", Errors: conflict},
		httpx.Perm(tenant, "orders:exception"), h.resolve)
}

type tripHandlers struct {
	s   *Service
	loc Locator
}

type hallInput struct {
	HallQuery
}

type hallOutput struct{ Body *Hall }

func (h *tripHandlers) hall(ctx context.Context, in *hallInput) (*hallOutput, error) {
	t, me := caller(ctx)
	var at *HallPoint
	if h.loc != nil {
		var err error
		if at, err = h.loc.CourierPosition(ctx, t.ID, me); err != nil {
			return nil, err
		}
	}
	hall, err := h.s.TaskHall(ctx, t, me, at, in.HallQuery)
	if err != nil {
		return nil, mapErr(err)
	}
	return &hallOutput{Body: hall}, nil
}

func (h *tripHandlers) grab(ctx context.Context, in *orderIDInput) (*orderBody, error) {
	t, me := caller(ctx)
	return orderResult(h.s.Grab(ctx, t, me, in.OrderID))
}

type releaseInput struct {
	OrderID string `path:"orderId" format:"uuid"`
	Body    struct {
		Reason string `json:"reason" minLength:"1" maxLength:"200"`
	}
}

func (h *tripHandlers) release(ctx context.Context, in *releaseInput) (*orderBody, error) {
	t, me := caller(ctx)
	return orderResult(h.s.Release(ctx, t, me, in.OrderID, in.Body.Reason))
}

type pickupInput struct {
	OrderID string `path:"orderId" format:"uuid"`
	Body    *struct {
		Code string `json:"code,omitempty" maxLength:"32" doc:"The pickup code the student gave, where they gave one."`
	} `required:"false"`
}

func (h *tripHandlers) pickup(ctx context.Context, in *pickupInput) (*orderBody, error) {
	t, me := caller(ctx)
	code := ""
	if in.Body != nil {
		code = in.Body.Code
	}
	return orderResult(h.s.Pickup(ctx, t, me, in.OrderID, code))
}

type deliverInput struct {
	OrderID string `path:"orderId" format:"uuid"`
	Body    DeliverRequest
}

func (h *tripHandlers) deliver(ctx context.Context, in *deliverInput) (*orderBody, error) {
	t, me := caller(ctx)
	return orderResult(h.s.Deliver(ctx, t, me, in.OrderID, in.Body))
}

type reportInput struct {
	OrderID string `path:"orderId" format:"uuid"`
	Body    struct {
		Kind string `json:"kind" enum:"cant_find_item,shop_closed,student_unreachable,item_damaged,item_lost"`
		Note string `json:"note" minLength:"1" maxLength:"500" doc:"What happened."`
	}
}

func (h *tripHandlers) report(ctx context.Context, in *reportInput) (*orderBody, error) {
	t, me := caller(ctx)
	return orderResult(h.s.ReportException(ctx, t, me, in.OrderID, in.Body.Kind, in.Body.Note))
}

type tripsInput struct {
	All    bool `query:"all" doc:"Include finished orders."`
	Limit  int  `query:"limit" minimum:"1" maximum:"100" default:"20"`
	Offset int  `query:"offset" minimum:"0"`
}

func (h *tripHandlers) trips(ctx context.Context, in *tripsInput) (*orderListOutput, error) {
	t, me := caller(ctx)
	f := ListFilter{CourierID: me, Limit: in.Limit, Offset: in.Offset}
	if !in.All {
		f.Status = []Status{Accepted, PickedUp}
	}
	list, total, err := h.s.List(ctx, t, ActorCourier, f)
	if err != nil {
		return nil, mapErr(err)
	}
	out := &orderListOutput{}
	out.Body.Items, out.Body.Total = list, total
	return out, nil
}

func (h *tripHandlers) trip(ctx context.Context, in *orderIDInput) (*orderWithTimeline, error) {
	t, me := caller(ctx)
	o, events, err := h.s.Get(ctx, t, ActorCourier, me, in.OrderID)
	if err != nil {
		return nil, mapErr(err)
	}
	out := &orderWithTimeline{}
	out.Body.Order, out.Body.Timeline = o, events
	return out, nil
}

type assignInput struct {
	OrderID string `path:"orderId" format:"uuid"`
	Body    struct {
		CourierID string `json:"courierId,omitempty" doc:"The courier to give the order to; omit to put a taken order back in the hall."`
		Reason    string `json:"reason,omitempty" maxLength:"200" doc:"Required to reassign or release."`
	}
}

func (h *tripHandlers) assign(ctx context.Context, in *assignInput) (*orderBody, error) {
	t, me := caller(ctx)
	return orderResult(h.s.Assign(ctx, t, me, in.OrderID, in.Body.CourierID, in.Body.Reason))
}

type reassignManyInput struct {
	Body struct {
		OrderIDs  []string `json:"orderIds" minItems:"1" maxItems:"100" uniqueItems:"true"`
		CourierID string   `json:"courierId,omitempty" doc:"Omit to put every order back in the hall."`
		Reason    string   `json:"reason" minLength:"1" maxLength:"200"`
	}
}

type reassignManyOutput struct {
	Body struct {
		Results []ReassignResult `json:"results"`
	}
}

func (h *tripHandlers) reassignMany(ctx context.Context, in *reassignManyInput) (*reassignManyOutput, error) {
	t, me := caller(ctx)
	out := &reassignManyOutput{}
	out.Body.Results = h.s.AssignMany(ctx, t, me, in.Body.OrderIDs, in.Body.CourierID, in.Body.Reason)
	return out, nil
}

type resolveInput struct {
	OrderID string `path:"orderId" format:"uuid"`
	Body    struct {
		Action    string `json:"action" enum:"resume,reassign,cancel_refund"`
		CourierID string `json:"courierId,omitempty" doc:"reassign: the new courier; omit to put the order back in the hall."`
		Reason    string `json:"reason" minLength:"1" maxLength:"200"`
	}
}

func (h *tripHandlers) resolve(ctx context.Context, in *resolveInput) (*orderBody, error) {
	t, me := caller(ctx)
	return orderResult(h.s.ResolveException(ctx, t, me, in.OrderID, in.Body.Action, in.Body.CourierID, in.Body.Reason))
}

func orderResult(o *Order, err error) (*orderBody, error) {
	if err != nil {
		return nil, mapErr(err)
	}
	return &orderBody{Body: o}, nil
}

// AssignMany runs Assign for each order on its own, so one refusal does not undo the rest.
func (s *Service) AssignMany(ctx context.Context, t *tenancy.Tenant, staffID string, orderIDs []string, courierID, reason string) []ReassignResult {
	out := make([]ReassignResult, 0, len(orderIDs))
	for _, id := range orderIDs {
		o, err := s.Assign(ctx, t, staffID, id, courierID, reason)
		res := ReassignResult{OrderID: id, OK: err == nil}
		if err != nil {
			if p, ok := mapErr(err).(*httpx.Problem); ok {
				res.Problem, res.Detail = p.Code, p.Detail
			} else {
				res.Problem = "internal_error"
			}
		} else {
			res.Status = o.Status
		}
		out = append(out, res)
	}
	return out
}
