package orders

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/paotui/paotui/internal/catalog"
	"github.com/paotui/paotui/internal/httpx"
	"github.com/paotui/paotui/internal/places"
	"github.com/paotui/paotui/internal/platform/tenancy"
	"github.com/paotui/paotui/internal/pricing"
)

// Problems maps the orders domain's errors (other domains surfacing them use it too).
var Problems = httpx.ProblemTable{
	httpx.Rule(ErrNotFound, http.StatusNotFound, "order_not_found", "no such order"),
	httpx.Rule(ErrTaskTypeDisabled, http.StatusUnprocessableEntity, "task_type_unavailable", ""),
	httpx.Rule(ErrPlaceNotFound, http.StatusUnprocessableEntity, "place_not_found", "pick a campus place from the list or drop a pin"),
	httpx.Rule(ErrQuoteUsed, http.StatusConflict, "quote_already_used", ""),
	httpx.Rule(ErrQuoteStale, http.StatusConflict, "quote_stale", ""),
	httpx.Rule(ErrAlreadyReviewed, http.StatusConflict, "order_already_reviewed", ""),
	httpx.Rule(ErrNotReviewable, http.StatusConflict, "order_not_reviewable", ""),
	httpx.Rule(ErrCancelNotFree, http.StatusConflict, "cancel_not_allowed", ""),
	httpx.Rule(ErrRefundTooLarge, http.StatusUnprocessableEntity, "refund_too_large", ""),
	httpx.Rule(ErrReasonRequired, http.StatusUnprocessableEntity, "reason_required", ""),
	httpx.Rule(ErrNotPaid, http.StatusConflict, "order_not_paid", ""),
	httpx.Rule(ErrBadDeliveryCode, http.StatusUnprocessableEntity, "delivery_code_wrong", ""),
	httpx.Rule(ErrWrongWindow, http.StatusUnprocessableEntity, "invalid_time_window", ""),
	httpx.Rule(ErrPaymentMethod, http.StatusUnprocessableEntity, "payment_method_unknown", ""),
	httpx.Rule(ErrConcurrentChange, http.StatusConflict, "order_changed", ""),
	httpx.Rule(ErrCourierNotAllowed, http.StatusForbidden, "not_order_courier", ""),
	httpx.Rule(ErrNoteInvalid, http.StatusUnprocessableEntity, "note_invalid", ""),
	httpx.Rule(ErrPaymentExpired, http.StatusConflict, "order_payment_expired", ""),
	httpx.Rule(ErrIllegalTransition, http.StatusConflict, "order_illegal_transition", ""),
	httpx.Rule(ErrBadException, http.StatusUnprocessableEntity, "exception_invalid", "pick a known exception and say what happened"),
	httpx.Rule(ErrAlreadyTaken, http.StatusConflict, "order_already_taken", ""),
	httpx.Rule(ErrOrderCancelled, http.StatusConflict, "order_cancelled", ""),
	httpx.Rule(ErrGrabClosed, http.StatusConflict, "grab_closed", "wait for a dispatch offer"),
	httpx.Rule(ErrCourierAtCapacity, http.StatusConflict, "courier_at_capacity", "deliver an order you carry first"),
	httpx.Rule(ErrPickupCode, http.StatusUnprocessableEntity, "pickup_code_wrong", ""),
	httpx.Rule(ErrDeliveryCodeLocked, http.StatusLocked, "delivery_code_locked", ""),
	httpx.Rule(ErrProofRequired, http.StatusUnprocessableEntity, "delivery_proof_required", ""),
	httpx.Rule(ErrPhotoDeliveryOff, http.StatusUnprocessableEntity, "photo_delivery_disabled", ""),
	httpx.Rule(ErrCourierRequired, http.StatusUnprocessableEntity, "courier_required", ""),
	httpx.Rule(ErrBadResolution, http.StatusUnprocessableEntity, "resolution_invalid", "resume, reassign or cancel_refund"),
	httpx.Rule(pricing.ErrQuoteMalformed, http.StatusUnprocessableEntity, "quote_malformed", "the quote token is not one we issued; ask for a new quote"),
	httpx.Rule(pricing.ErrQuoteTampered, http.StatusUnprocessableEntity, "quote_tampered", "the quote token was altered; ask for a new quote"),
	httpx.Rule(pricing.ErrQuoteExpired, http.StatusUnprocessableEntity, "quote_expired", "the quote has expired; ask for a new one"),
	httpx.Rule(pricing.ErrQuoteMismatch, http.StatusUnprocessableEntity, "quote_mismatch", "the order differs from what was quoted; ask for a new quote"),
	httpx.Rule(pricing.ErrBadPoint, http.StatusUnprocessableEntity, "invalid_location", ""),
	httpx.Rule(pricing.ErrUnknownSize, http.StatusUnprocessableEntity, "unknown_size", ""),
	httpx.Rule(pricing.ErrBadMinutes, http.StatusUnprocessableEntity, "invalid_minutes", ""),
	httpx.Rule(pricing.ErrBadTip, http.StatusUnprocessableEntity, "invalid_tip", ""),
	httpx.Rule(places.ErrInvalidPoint, http.StatusUnprocessableEntity, "invalid_location", "give a place id, or lng and lat"),
	httpx.Rule(places.ErrPickupOutOfRange, http.StatusUnprocessableEntity, "pickup_out_of_range", "the pickup is outside the delivery range"),
	httpx.Rule(places.ErrDropoffOutOfRange, http.StatusUnprocessableEntity, "dropoff_out_of_range", "the drop-off is outside the delivery range"),
	httpx.Rule(places.ErrClosedDate, http.StatusUnprocessableEntity, "service_closed_date", "the service is closed today"),
	httpx.Rule(places.ErrOutsideHours, http.StatusUnprocessableEntity, "outside_service_hours", "the service is closed at this time"),
}

// PaymentProblems, CourierProblems and PhotoProblems map the payments, couriers and photo
// domains' errors; the wiring sets them (orders imports none of those packages).
var PaymentProblems, CourierProblems, PhotoProblems httpx.ProblemTable

func mapErr(err error) error {
	if err == nil {
		return nil
	}
	var fe *catalog.FormError
	if errors.As(err, &fe) {
		p := httpx.NewProblem(http.StatusUnprocessableEntity, "invalid_form", "some form fields need fixing")
		for _, fp := range fe.Problems {
			p.Errors = append(p.Errors, &huma.ErrorDetail{Location: "body.form." + fp.Field, Message: fp.Reason})
		}
		return p
	}
	for _, table := range []httpx.ProblemTable{Problems, PaymentProblems, CourierProblems, PhotoProblems} {
		if p := table.Map(err); p != err {
			return p
		}
	}
	return err
}

// RegisterHTTP adds the order operations for students and staff (trip.go: couriers).
func RegisterHTTP(api huma.API, s *Service) {
	h := &handlers{s: s}
	tenant := httpx.ScopeTenant
	httpx.Register(api, huma.Operation{OperationID: "quote-order", Method: http.MethodPost, Path: "/api/v1/orders/quote", Tags: []string{"orders"},
		Summary: "Price an errand: total, line-by-line breakdown and a signed quote token"},
		httpx.Perm(tenant, "errands:create"), h.quote)
	httpx.Register(api, huma.Operation{OperationID: "create-order", Method: http.MethodPost, Path: "/api/v1/orders", Tags: []string{"orders"},
		Summary:     "Place an errand at exactly the quoted price",
		Description: "Send the quote token with the same inputs. One token makes one order; sending it again returns that order.",
		Errors:      []int{http.StatusConflict}},
		httpx.Perm(tenant, "errands:create"), h.create)
	httpx.Register(api, huma.Operation{OperationID: "pay-order", Method: http.MethodPost, Path: "/api/v1/orders/{orderId}/pay", Tags: []string{"orders"},
		Summary:     "Pay an order from the wallet, or start a card / Alipay / WeChat Pay payment",
		Description: "Send an Idempotency-Key header: a retried payment never charges twice.",
		Errors:      []int{http.StatusConflict, http.StatusNotFound}},
		httpx.Perm(tenant, "errands:pay").WithIdempotency(), h.pay)
	httpx.Register(api, huma.Operation{OperationID: "get-order", Method: http.MethodGet, Path: "/api/v1/orders/{orderId}", Tags: []string{"orders"},
		Summary: "One of my orders with its timeline", Errors: []int{http.StatusNotFound}},
		httpx.Perm(tenant, "errands:read"), h.get)
	httpx.Register(api, huma.Operation{OperationID: "list-my-orders", Method: http.MethodGet, Path: "/api/v1/me/orders", Tags: []string{"orders"},
		Summary: "My orders, newest first"},
		httpx.Perm(tenant, "errands:read"), h.listMine)
	httpx.Register(api, huma.Operation{OperationID: "cancel-order", Method: http.MethodPost, Path: "/api/v1/orders/{orderId}/cancel", Tags: []string{"orders"},
		Summary: "Cancel my order (free until the tenant's limit); what was paid is refunded", Errors: []int{http.StatusConflict, http.StatusNotFound}},
		httpx.Perm(tenant, "errands:cancel"), h.cancel)
	httpx.Register(api, huma.Operation{OperationID: "confirm-order", Method: http.MethodPost, Path: "/api/v1/orders/{orderId}/confirm", Tags: []string{"orders"},
		Summary: "Confirm receipt: completes the order and pays the courier", Errors: []int{http.StatusConflict, http.StatusNotFound}},
		httpx.Perm(tenant, "errands:confirm"), h.confirm)
	httpx.Register(api, huma.Operation{OperationID: "review-order", Method: http.MethodPost, Path: "/api/v1/orders/{orderId}/review", Tags: []string{"orders"},
		Summary: "Rate and review the courier of a completed order, once", DefaultStatus: http.StatusNoContent,
		Errors: []int{http.StatusConflict, http.StatusNotFound}},
		httpx.Perm(tenant, "errands:review"), h.review)
	// Staff.
	httpx.Register(api, huma.Operation{OperationID: "list-orders", Method: http.MethodGet, Path: "/api/v1/admin/orders", Tags: []string{"admin-orders"},
		Summary: "Search and filter orders"},
		httpx.Perm(tenant, "orders:read"), h.list)
	// Registered before get-order-detail for readability only: the router prefers the static
	// segment "export.csv" over {orderId} whatever the order.
	httpx.Register(api, huma.Operation{OperationID: "export-orders", Method: http.MethodGet, Path: "/api/v1/admin/orders/export.csv", Tags: []string{"admin-orders"},
		Summary: "Download the orders list-orders would find as a CSV file (at most 50,000, newest first)",
		Description: "UTF-8 with a byte-order mark for Excel, a Chinese/English header row, times in the tenant's time zone, " +
			"money in yuan with two decimals. The form values students typed are personal data and not included. " +
			"When more orders match than the cap, the newest are exported and the X-Export-Truncated header is true.",
		Responses: map[string]*huma.Response{"200": {
			Description: "The CSV file, as an attachment named orders-YYYYMMDD.csv.",
			Content:     map[string]*huma.MediaType{"text/csv": {Schema: &huma.Schema{Type: "string"}}},
			Headers: map[string]*huma.Param{
				"Content-Disposition": {Schema: &huma.Schema{Type: "string"}},
				"X-Export-Truncated":  {Schema: &huma.Schema{Type: "boolean"}, Description: "More orders matched than the file holds."},
			},
		}}},
		httpx.Perm(tenant, "orders:export"), h.export)
	httpx.Register(api, huma.Operation{OperationID: "get-order-detail", Method: http.MethodGet, Path: "/api/v1/admin/orders/{orderId}", Tags: []string{"admin-orders"},
		Summary: "An order with its timeline, its money movements (ledger journals) and staff notes, for staff", Errors: []int{http.StatusNotFound}},
		httpx.Perm(tenant, "orders:read"), h.detail)
	httpx.Register(api, huma.Operation{OperationID: "add-order-note", Method: http.MethodPost, Path: "/api/v1/admin/orders/{orderId}/notes", Tags: []string{"admin-orders"},
		Summary: "Add a staff note to an order (never shown to the student or courier)", DefaultStatus: http.StatusCreated,
		Errors: []int{http.StatusNotFound}},
		httpx.Perm(tenant, "orders:note"), h.addNote)
	httpx.Register(api, huma.Operation{OperationID: "refund-order", Method: http.MethodPost, Path: "/api/v1/admin/orders/{orderId}/refund", Tags: []string{"admin-orders"},
		Summary:     "Refund part or all of an order's payment, with a reason",
		Description: "The money goes back through the provider it came from. Send an Idempotency-Key header.",
		Errors:      []int{http.StatusConflict, http.StatusNotFound}},
		httpx.Perm(tenant, "orders:refund").WithIdempotency(), h.refund)
	httpx.Register(api, huma.Operation{OperationID: "flag-order-exception", Method: http.MethodPut, Path: "/api/v1/admin/orders/{orderId}/exception", Tags: []string{"admin-orders"},
		Summary:     "Flag an order's exception (late, can't find item, shop closed, student unreachable, item damaged or lost) with a note, or clear it",
		Description: "An empty exception clears the flag. The status does not change; the flag and its note join the order's timeline.",
		Errors:      []int{http.StatusConflict, http.StatusNotFound}},
		httpx.Perm(tenant, "orders:exception"), h.flag)
	httpx.Register(api, huma.Operation{OperationID: "admin-cancel-order", Method: http.MethodPost, Path: "/api/v1/admin/orders/{orderId}/cancel", Tags: []string{"admin-orders"},
		Summary: "Cancel an order as staff (with a reason); what was paid is refunded", Errors: []int{http.StatusConflict, http.StatusNotFound}},
		httpx.Perm(tenant, "orders:cancel"), h.adminCancel)
	httpx.Register(api, huma.Operation{OperationID: "mark-order-paid-offline", Method: http.MethodPost, Path: "/api/v1/admin/orders/{orderId}/offline-payment", Tags: []string{"admin-orders"},
		Summary: "Record a cash or other offline payment taken by staff", DefaultStatus: http.StatusNoContent,
		Errors: []int{http.StatusConflict, http.StatusNotFound}},
		httpx.Perm(tenant, "orders:pay_offline").WithIdempotency(), h.offline)
}

type handlers struct{ s *Service }

func caller(ctx context.Context) (*tenancy.Tenant, string) {
	p, _ := httpx.PrincipalFrom(ctx)
	return httpx.HostFrom(ctx).Tenant, p.UserID
}

type quoteInput struct{ Body QuoteRequest }
type quoteOutput struct{ Body *Quote }

func (h *handlers) quote(ctx context.Context, in *quoteInput) (*quoteOutput, error) {
	t, _ := caller(ctx)
	q, err := h.s.Quote(ctx, t, in.Body)
	if err != nil {
		return nil, mapErr(err)
	}
	return &quoteOutput{Body: q}, nil
}

type createInput struct {
	Body struct {
		QuoteRequest
		QuoteToken string `json:"quoteToken" minLength:"1" maxLength:"400"`
	}
}

type orderOutput struct {
	Status int
	Body   *Order
}

func (h *handlers) create(ctx context.Context, in *createInput) (*orderOutput, error) {
	t, me := caller(ctx)
	o, created, err := h.s.Create(ctx, t, me, in.Body.QuoteToken, in.Body.QuoteRequest)
	if err != nil {
		return nil, mapErr(err)
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	return &orderOutput{Status: status, Body: o}, nil
}

type orderIDInput struct {
	OrderID string `path:"orderId" format:"uuid"`
}

type payInput struct {
	OrderID string `path:"orderId" format:"uuid"`
	Body    PayRequest
}

type payOutput struct{ Body *PayResult }

func (h *handlers) pay(ctx context.Context, in *payInput) (*payOutput, error) {
	t, me := caller(ctx)
	res, err := h.s.Pay(ctx, t, me, in.OrderID, in.Body, "")
	if err != nil {
		return nil, mapErr(err)
	}
	return &payOutput{Body: res}, nil
}

type orderWithTimeline struct {
	Body struct {
		*Order
		Timeline []EventRow `json:"timeline"`
	}
}

func (h *handlers) get(ctx context.Context, in *orderIDInput) (*orderWithTimeline, error) {
	t, me := caller(ctx)
	o, events, err := h.s.Get(ctx, t, ActorStudent, me, in.OrderID)
	if err != nil {
		return nil, mapErr(err)
	}
	out := &orderWithTimeline{}
	out.Body.Order, out.Body.Timeline = o, events
	return out, nil
}

type detailOutput struct{ Body *Detail }

func (h *handlers) detail(ctx context.Context, in *orderIDInput) (*detailOutput, error) {
	t, _ := caller(ctx)
	d, err := h.s.Detail(ctx, t, in.OrderID)
	if err != nil {
		return nil, mapErr(err)
	}
	return &detailOutput{Body: d}, nil
}

type noteInput struct {
	OrderID string `path:"orderId" format:"uuid"`
	Body    struct {
		Note string `json:"note" minLength:"1" maxLength:"1000"`
	}
}

type noteOutput struct{ Body *Note }

func (h *handlers) addNote(ctx context.Context, in *noteInput) (*noteOutput, error) {
	t, me := caller(ctx)
	n, err := h.s.AddNote(ctx, t, me, in.OrderID, in.Body.Note)
	if err != nil {
		return nil, mapErr(err)
	}
	return &noteOutput{Body: n}, nil
}

type listMineInput struct {
	Status string `query:"status" enum:"awaiting_payment,awaiting_courier,accepted,picked_up,delivered,completed,cancelled,expired,refunded," doc:"Only orders in this status."`
	Limit  int    `query:"limit" minimum:"1" maximum:"100" default:"20"`
	Offset int    `query:"offset" minimum:"0" maximum:"100000" default:"0"`
}

type orderListOutput struct {
	Body struct {
		Items []Order `json:"items"`
		Total int64   `json:"total"`
	}
}

func (h *handlers) listMine(ctx context.Context, in *listMineInput) (*orderListOutput, error) {
	t, me := caller(ctx)
	f := ListFilter{StudentID: me, Limit: in.Limit, Offset: in.Offset}
	if in.Status != "" {
		f.Status = []Status{Status(in.Status)}
	}
	items, total, err := h.s.List(ctx, t, ActorStudent, f)
	if err != nil {
		return nil, mapErr(err)
	}
	out := &orderListOutput{}
	out.Body.Items, out.Body.Total = items, total
	return out, nil
}

// ListQuery is the staff order search shared by list-orders and export-orders. It is exported
// only because huma reads the query parameters of embedded structs that are.
type ListQuery struct {
	Status    []string  `query:"status,explode" doc:"Only these statuses (repeat the parameter: status=a&status=b)."`
	TaskType  string    `query:"taskType" maxLength:"40"`
	StudentID string    `query:"studentId" format:"uuid" doc:"Only this student's orders."`
	CourierID string    `query:"courierId" format:"uuid" doc:"Only this courier's orders."`
	From      time.Time `query:"from" doc:"Created at or after (RFC 3339)."`
	To        time.Time `query:"to" doc:"Created before (RFC 3339)."`
	MinTotal  int64     `query:"minTotal" minimum:"0" doc:"Total at least this many 分."`
	MaxTotal  int64     `query:"maxTotal" minimum:"0" doc:"Total at most this many 分."`
}

func (q *ListQuery) filter() (ListFilter, error) {
	f := ListFilter{StudentID: q.StudentID, CourierID: q.CourierID, TaskType: q.TaskType}
	for _, s := range q.Status {
		st := Status(s)
		if !st.Valid() {
			return f, httpx.NewProblem(http.StatusUnprocessableEntity, "validation_failed", "unknown status %q", s)
		}
		f.Status = append(f.Status, st)
	}
	if !q.From.IsZero() {
		f.From = &q.From
	}
	if !q.To.IsZero() {
		f.To = &q.To
	}
	if q.MinTotal > 0 {
		f.MinTotal = &q.MinTotal
	}
	if q.MaxTotal > 0 {
		f.MaxTotal = &q.MaxTotal
	}
	return f, nil
}

type orderListInput struct {
	ListQuery
	Limit  int `query:"limit" minimum:"1" maximum:"200" default:"50"`
	Offset int `query:"offset" minimum:"0" maximum:"1000000" default:"0"`
}

func (h *handlers) list(ctx context.Context, in *orderListInput) (*orderListOutput, error) {
	t, _ := caller(ctx)
	f, err := in.filter()
	if err != nil {
		return nil, err
	}
	f.Limit, f.Offset = in.Limit, in.Offset
	items, total, err := h.s.List(ctx, t, ActorStaff, f)
	if err != nil {
		return nil, mapErr(err)
	}
	out := &orderListOutput{}
	out.Body.Items, out.Body.Total = items, total
	return out, nil
}

type reasonInput struct {
	OrderID string `path:"orderId" format:"uuid"`
	Body    struct {
		Reason string `json:"reason,omitempty" maxLength:"200"`
	}
}

type orderBody struct{ Body *Order }

func (h *handlers) cancel(ctx context.Context, in *reasonInput) (*orderBody, error) {
	t, me := caller(ctx)
	o, err := h.s.Cancel(ctx, t, ActorStudent, me, in.OrderID, in.Body.Reason)
	if err != nil {
		return nil, mapErr(err)
	}
	return &orderBody{Body: o}, nil
}

func (h *handlers) adminCancel(ctx context.Context, in *reasonInput) (*orderBody, error) {
	t, me := caller(ctx)
	o, err := h.s.Cancel(ctx, t, ActorStaff, me, in.OrderID, in.Body.Reason)
	if err != nil {
		return nil, mapErr(err)
	}
	return &orderBody{Body: o}, nil
}

func (h *handlers) offline(ctx context.Context, in *reasonInput) (*struct{}, error) {
	t, me := caller(ctx)
	if err := h.s.MarkPaidOffline(ctx, t, in.OrderID, "staff:"+me, in.Body.Reason); err != nil {
		return nil, mapErr(err)
	}
	return &struct{}{}, nil
}

func (h *handlers) confirm(ctx context.Context, in *orderIDInput) (*orderBody, error) {
	t, me := caller(ctx)
	o, err := h.s.Confirm(ctx, t, ActorStudent, me, in.OrderID)
	if err != nil {
		return nil, mapErr(err)
	}
	return &orderBody{Body: o}, nil
}

type reviewInput struct {
	OrderID string `path:"orderId" format:"uuid"`
	Body    ReviewRequest
}

func (h *handlers) review(ctx context.Context, in *reviewInput) (*struct{}, error) {
	t, me := caller(ctx)
	if err := h.s.Review(ctx, t, me, in.OrderID, in.Body); err != nil {
		return nil, mapErr(err)
	}
	return &struct{}{}, nil
}

type refundInput struct {
	OrderID string `path:"orderId" format:"uuid"`
	Body    struct {
		Amount int64  `json:"amount" minimum:"1" doc:"分 to refund; at most what is left of the payment."`
		Reason string `json:"reason" minLength:"1" maxLength:"200"`
	}
}

func (h *handlers) refund(ctx context.Context, in *refundInput) (*orderBody, error) {
	t, me := caller(ctx)
	o, err := h.s.Refund(ctx, t, me, in.OrderID, in.Body.Amount, in.Body.Reason, "")
	if err != nil {
		return nil, mapErr(err)
	}
	return &orderBody{Body: o}, nil
}

type exportInput struct {
	ListQuery
}

// export streams the CSV. Problems found before the first byte (a bad filter, the database
// down) are answered as usual; a failure half-way can only cut the file short, and is logged.
func (h *handlers) export(ctx context.Context, in *exportInput) (*huma.StreamResponse, error) {
	t, _ := caller(ctx)
	f, err := in.filter()
	if err != nil {
		return nil, err
	}
	return &huma.StreamResponse{Body: func(hc huma.Context) {
		started := false
		n, err := h.s.Export(ctx, t, f, func(file ExportFile) io.Writer {
			started = true
			hc.SetHeader("Content-Type", "text/csv; charset=utf-8")
			hc.SetHeader("Content-Disposition", `attachment; filename="`+file.Name+`"`)
			hc.SetHeader("Cache-Control", "no-store")
			hc.SetHeader("X-Export-Truncated", strconv.FormatBool(file.Truncated))
			hc.SetStatus(http.StatusOK)
			return hc.BodyWriter()
		})
		if err == nil {
			return
		}
		if started {
			h.s.log.ErrorContext(ctx, "order export cut short", "tenant", t.Slug, "rows", n, "err", err)
			return
		}
		p, ok := mapErr(err).(*httpx.Problem)
		if !ok {
			h.s.log.ErrorContext(ctx, "order export failed", "tenant", t.Slug, "err", err)
			p = httpx.NewProblem(http.StatusInternalServerError, "internal", "something went wrong on our side; the request id identifies it in our logs")
		}
		p.Instance = httpx.RequestID(ctx)
		hc.SetHeader("Content-Type", "application/problem+json")
		hc.SetStatus(p.Status)
		_ = json.NewEncoder(hc.BodyWriter()).Encode(p)
	}}, nil
}

type flagInput struct {
	OrderID string `path:"orderId" format:"uuid"`
	Body    struct {
		Exception string `json:"exception" enum:"late,cant_find_item,shop_closed,student_unreachable,item_damaged,item_lost,other," doc:"Empty clears the flag."`
		Note      string `json:"note,omitempty" maxLength:"500"`
	}
}

func (h *handlers) flag(ctx context.Context, in *flagInput) (*orderBody, error) {
	t, me := caller(ctx)
	o, err := h.s.Flag(ctx, t, ActorStaff, me, in.OrderID, in.Body.Exception, in.Body.Note)
	if err != nil {
		return nil, mapErr(err)
	}
	return &orderBody{Body: o}, nil
}
