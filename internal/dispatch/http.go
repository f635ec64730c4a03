package dispatch

import (
	"context"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/paotui/paotui/internal/dispatch/solver"
	"github.com/paotui/paotui/internal/httpx"
	"github.com/paotui/paotui/internal/platform/tenancy"
)

var problems = httpx.ProblemTable{
	httpx.Rule(ErrOfferNotFound, http.StatusNotFound, "offer_not_found", "no such offer"),
	httpx.Rule(ErrOfferNotYours, http.StatusForbidden, "offer_not_yours", "this offer was made to another courier"),
	httpx.Rule(ErrOfferClosed, http.StatusConflict, "offer_closed", "this offer was already accepted, declined, expired or withdrawn"),
	httpx.Rule(ErrOfferExpired, http.StatusConflict, "offer_expired", "the time to answer this offer has passed"),
	httpx.Rule(ErrReasonTooLong, http.StatusUnprocessableEntity, "decline_reason_too_long", ""),
	httpx.Rule(ErrOrderNotFound, http.StatusNotFound, "order_not_found", "no such order"),
	httpx.Rule(ErrDispatchOff, http.StatusConflict, "dispatch_off", "automatic dispatch is off: switch the dispatch mode to dispatch or hybrid first"),
}

// OrderProblems maps the orders domain's errors, which Accept returns unchanged from
// Orders.Assign (order already taken, courier over the limit...); the wiring sets it, since
// dispatch does not import orders.
var OrderProblems httpx.ProblemTable

func mapErr(err error) error {
	if err == nil {
		return nil
	}
	if p := problems.Map(err); p != err {
		return p
	}
	return OrderProblems.Map(err)
}

// RegisterHTTP adds the couriers' offer operations and the admins' dispatch operations. It is
// idempotent per api, so tests may register them on an application that already has them.
func RegisterHTTP(api huma.API, s *Service) {
	if !httpx.Once(api, "dispatch") {
		return
	}
	h := &handlers{s: s}
	tenant := httpx.ScopeTenant
	httpx.Register(api, huma.Operation{OperationID: "accept-offer", Method: http.MethodPost,
		Path: "/api/v1/courier/offers/{offerId}/accept", Tags: []string{"trips"},
		Summary:     "Accept a dispatch offer: the order becomes mine",
		Description: "Answer before expiresAt. If the order was cancelled or taken meanwhile, the offer is withdrawn and the order's problem is returned.",
		Errors:      []int{http.StatusNotFound, http.StatusConflict}},
		httpx.Perm(tenant, "trips:accept"), h.accept)
	httpx.Register(api, huma.Operation{OperationID: "decline-offer", Method: http.MethodPost,
		Path: "/api/v1/courier/offers/{offerId}/decline", Tags: []string{"trips"},
		Summary:       "Decline a dispatch offer, optionally saying why; the order is not offered to me again",
		DefaultStatus: http.StatusNoContent, Errors: []int{http.StatusNotFound, http.StatusConflict}},
		httpx.Perm(tenant, "trips:decline"), h.decline)
	httpx.Register(api, huma.Operation{OperationID: "list-my-offers", Method: http.MethodGet,
		Path: "/api/v1/courier/offers", Tags: []string{"trips"},
		Summary: "My open dispatch offers, soonest deadline first"},
		httpx.Perm(tenant, "trips:read"), h.listMine)
	httpx.Register(api, huma.Operation{OperationID: "get-order-dispatch", Method: http.MethodGet,
		Path: "/api/v1/admin/orders/{orderId}/dispatch", Tags: []string{"admin-orders"},
		Summary:     "Every dispatch offer of an order: to whom, what became of it, and why that courier (cost terms and batch figures)",
		Description: "Cost terms, in cost units (1 = one kilometre of travel by default): distance, idle (a bonus), load, credit, balance; each with its raw input.",
		Errors:      []int{http.StatusNotFound}},
		httpx.Perm(tenant, "orders:read"), h.orderDispatch)
	httpx.Register(api, huma.Operation{OperationID: "run-dispatch", Method: http.MethodPost,
		Path: "/api/v1/admin/dispatch/run", Tags: []string{"admin-orders"},
		Summary: "Run a dispatch batch now and see what it offered, at what cost, against nearest-courier dispatch",
		Errors:  []int{http.StatusConflict}},
		httpx.Perm(tenant, "orders:assign"), h.run)
}

type handlers struct{ s *Service }

func caller(ctx context.Context) (*tenancy.Tenant, string) {
	p, _ := httpx.PrincipalFrom(ctx)
	return httpx.HostFrom(ctx).Tenant, p.UserID
}

// Body types carry package-specific names: huma names schemas after Go types, and another
// package's Offer, Batch or Term must not collide with these.

type dispatchCourierOffer struct {
	ID          string    `json:"id" format:"uuid"`
	OrderID     string    `json:"orderId" format:"uuid"`
	Status      string    `json:"status" enum:"pending,accepted,declined,expired,withdrawn"`
	Reward      int64     `json:"reward" doc:"The courier's share of the order, in 分."`
	PickupName  string    `json:"pickupName"`
	DropoffName string    `json:"dropoffName"`
	ExpiresAt   time.Time `json:"expiresAt" doc:"Answer before this."`
	CreatedAt   time.Time `json:"createdAt"`
}

func courierOfferBody(o CourierOffer) dispatchCourierOffer {
	return dispatchCourierOffer(o)
}

type dispatchCostTerm struct {
	Name  string  `json:"name" enum:"distance,idle,load,credit,balance"`
	Value float64 `json:"value" doc:"Contribution to the cost, in cost units (negative for the idle bonus)."`
	Input float64 `json:"input" doc:"Raw input: metres, idle minutes, orders carried, credit points below 100, or ¥ earned today above the batch average."`
}

func termsBody(terms []solver.Term) []dispatchCostTerm {
	out := make([]dispatchCostTerm, len(terms))
	for i, t := range terms {
		out[i] = dispatchCostTerm(t)
	}
	return out
}

type dispatchBatchFigures struct {
	ID             string    `json:"id"`
	StartedAt      time.Time `json:"startedAt"`
	Mode           string    `json:"mode" enum:"grab,dispatch,hybrid"`
	Orders         int       `json:"orders" doc:"Orders the batch considered."`
	Couriers       int       `json:"couriers" doc:"Couriers the batch considered."`
	Assigned       int       `json:"assigned"`
	TotalCost      float64   `json:"totalCost"`
	GreedyCost     float64   `json:"greedyCost" doc:"What nearest-courier dispatch would have cost on the same batch."`
	GreedyAssigned int       `json:"greedyAssigned" doc:"How many orders nearest-courier dispatch would have assigned."`
	DurationMs     float64   `json:"durationMs"`
}

func batchBody(b Batch) dispatchBatchFigures { return dispatchBatchFigures(b) }

type dispatchOfferRecord struct {
	ID            string               `json:"id" format:"uuid"`
	OrderID       string               `json:"orderId" format:"uuid"`
	CourierID     string               `json:"courierId" format:"uuid"`
	Status        string               `json:"status" enum:"pending,accepted,declined,expired,withdrawn"`
	Cost          float64              `json:"cost"`
	Explanation   []dispatchCostTerm   `json:"explanation"`
	Reward        int64                `json:"reward"`
	ExpiresAt     time.Time            `json:"expiresAt"`
	CreatedAt     time.Time            `json:"createdAt"`
	DecidedAt     *time.Time           `json:"decidedAt,omitempty"`
	DeclineReason string               `json:"declineReason,omitempty"`
	Batch         dispatchBatchFigures `json:"batch"`
}

type dispatchBatchOffer struct {
	OfferID     string             `json:"offerId" format:"uuid"`
	OrderID     string             `json:"orderId" format:"uuid"`
	CourierID   string             `json:"courierId" format:"uuid"`
	Cost        float64            `json:"cost"`
	Explanation []dispatchCostTerm `json:"explanation"`
	Reward      int64              `json:"reward"`
	ExpiresAt   time.Time          `json:"expiresAt"`
}

type dispatchRunResult struct {
	Batch  dispatchBatchFigures `json:"batch" doc:"The batch's figures; id is empty when nothing was offered."`
	Offers []dispatchBatchOffer `json:"offers"`
	Closed int                  `json:"closed" doc:"Stale pending offers closed first (overdue, or their order stopped waiting)."`
}

type offerIDInput struct {
	OfferID string `path:"offerId" format:"uuid"`
}

type courierOfferOutput struct{ Body dispatchCourierOffer }

func (h *handlers) accept(ctx context.Context, in *offerIDInput) (*courierOfferOutput, error) {
	t, me := caller(ctx)
	o, err := h.s.Accept(ctx, t, me, in.OfferID)
	if err != nil {
		return nil, mapErr(err)
	}
	return &courierOfferOutput{Body: courierOfferBody(o)}, nil
}

type declineOfferInput struct {
	OfferID string `path:"offerId" format:"uuid"`
	Body    *struct {
		Reason string `json:"reason,omitempty" maxLength:"200" doc:"Why not (optional); staff see it with the order's dispatch history."`
	}
}

func (h *handlers) decline(ctx context.Context, in *declineOfferInput) (*struct{}, error) {
	t, me := caller(ctx)
	reason := ""
	if in.Body != nil {
		reason = in.Body.Reason
	}
	if err := h.s.Decline(ctx, t, me, in.OfferID, reason); err != nil {
		return nil, mapErr(err)
	}
	return &struct{}{}, nil
}

type pageInput struct {
	Limit  int `query:"limit" minimum:"1" maximum:"100" default:"20"`
	Offset int `query:"offset" minimum:"0" maximum:"100000" default:"0"`
}

type myOffersOutput struct {
	Body struct {
		Items []dispatchCourierOffer `json:"items"`
		Total int64                  `json:"total"`
	}
}

func (h *handlers) listMine(ctx context.Context, in *pageInput) (*myOffersOutput, error) {
	t, me := caller(ctx)
	list, total, err := h.s.MyOffers(ctx, t, me, in.Limit, in.Offset)
	if err != nil {
		return nil, mapErr(err)
	}
	out := &myOffersOutput{}
	out.Body.Items, out.Body.Total = make([]dispatchCourierOffer, len(list)), total
	for i, o := range list {
		out.Body.Items[i] = courierOfferBody(o)
	}
	return out, nil
}

type orderDispatchInput struct {
	OrderID string `path:"orderId" format:"uuid"`
	Limit   int    `query:"limit" minimum:"1" maximum:"100" default:"20"`
	Offset  int    `query:"offset" minimum:"0" maximum:"100000" default:"0"`
}

type orderDispatchOutput struct {
	Body struct {
		Items []dispatchOfferRecord `json:"items"`
		Total int64                 `json:"total"`
	}
}

func (h *handlers) orderDispatch(ctx context.Context, in *orderDispatchInput) (*orderDispatchOutput, error) {
	t, _ := caller(ctx)
	list, err := h.s.OrderDispatch(ctx, t, in.OrderID)
	if err != nil {
		return nil, mapErr(err)
	}
	// An order has at most one declined or expired offer per courier (a refusal is final), so
	// the whole list is small and is paged here rather than in SQL.
	out := &orderDispatchOutput{}
	out.Body.Total = int64(len(list))
	out.Body.Items = []dispatchOfferRecord{}
	for _, o := range list[min(in.Offset, len(list)):min(in.Offset+in.Limit, len(list))] {
		out.Body.Items = append(out.Body.Items, dispatchOfferRecord{ID: o.ID, OrderID: o.OrderID, CourierID: o.CourierID,
			Status: o.Status, Cost: o.Cost, Explanation: termsBody(o.Explanation), Reward: o.Reward,
			ExpiresAt: o.ExpiresAt, CreatedAt: o.CreatedAt, DecidedAt: o.DecidedAt, DeclineReason: o.DeclineReason,
			Batch: batchBody(o.Batch)})
	}
	return out, nil
}

type runDispatchOutput struct{ Body dispatchRunResult }

func (h *handlers) run(ctx context.Context, _ *struct{}) (*runDispatchOutput, error) {
	t, _ := caller(ctx)
	res, err := h.s.RunBatch(ctx, t)
	if err != nil {
		return nil, mapErr(err)
	}
	out := &runDispatchOutput{Body: dispatchRunResult{Batch: batchBody(res.Batch), Closed: res.Closed,
		Offers: make([]dispatchBatchOffer, len(res.Offers))}}
	for i, o := range res.Offers {
		out.Body.Offers[i] = dispatchBatchOffer{OfferID: o.OfferID, OrderID: o.OrderID, CourierID: o.CourierID,
			Cost: o.Cost, Explanation: termsBody(o.Explanation), Reward: o.Reward, ExpiresAt: o.ExpiresAt}
	}
	return out, nil
}
