package tracking

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/paotui/paotui/internal/httpx"
)

var problems = httpx.ProblemTable{
	httpx.Rule(ErrInvalidLocation, http.StatusUnprocessableEntity, "location_invalid", ""),
	httpx.Rule(ErrImplausible, http.StatusUnprocessableEntity, "location_implausible",
		"this position is too far from the previous one to be real; it was not recorded"),
	httpx.Rule(ErrTooFrequent, http.StatusTooManyRequests, "location_too_frequent",
		"positions are recorded at most once every few seconds; send the next one after Retry-After"),
	httpx.Rule(ErrOffline, http.StatusConflict, "courier_offline", "go online before sending your position"),
	httpx.Rule(ErrOrderNotFound, http.StatusNotFound, "order_not_found", "no such order"),
	httpx.Rule(ErrInvalidQuery, http.StatusUnprocessableEntity, "tracking_query_invalid", ""),
}

// mapErr keeps the field and reason of a refused fix, which the courier app shows.
func mapErr(err error) error {
	var ie *InvalidError
	if errors.As(err, &ie) {
		p := httpx.NewProblem(http.StatusUnprocessableEntity, "location_invalid", "%s: %s", ie.Field, ie.Reason)
		p.Errors = []*huma.ErrorDetail{{Location: "body." + ie.Field, Message: ie.Reason}}
		return p
	}
	return problems.Map(err)
}

// RegisterHTTP adds the courier's position report and the staff's order trail. Registering
// twice on one API is a no-op.
func RegisterHTTP(api huma.API, s *Service) {
	if !httpx.Once(api, "tracking") {
		return
	}
	h := &handlers{s: s}
	tenant := httpx.ScopeTenant
	httpx.Register(api, huma.Operation{OperationID: "post-location", Method: http.MethodPost, Path: "/api/v1/courier/location",
		Tags: []string{"trips"}, Summary: "Report my current position while online", DefaultStatus: http.StatusNoContent,
		Description: "Send a fix every few seconds while online. The position goes to the live map and, while you carry " +
			"an order, to its trail. Refusals: `location_invalid` (422: coordinates out of range, (0, 0) or accuracy " +
			"out of 0..5000 m), `location_implausible` (422: faster than 50 m/s from your last fix, or not newer than " +
			"it; drop this fix), `location_too_frequent` (429: wait Retry-After seconds) and `courier_offline` (409).",
		Errors: []int{http.StatusConflict, http.StatusTooManyRequests}},
		httpx.Perm(tenant, "trips:location"), h.postLocation)
	httpx.Register(api, huma.Operation{OperationID: "get-order-trail", Method: http.MethodGet, Path: "/api/v1/admin/orders/{orderId}/trail",
		Tags: []string{"admin-orders"}, Summary: "Where the courier went while carrying an order, in time order",
		Description: "Points recorded while the order was accepted or picked up, unless the tenant turned trails off. " +
			"Pages by time: pass the last point's `at` as `after` to get the next page (`more` says whether there is one).",
		Errors: []int{http.StatusNotFound}},
		httpx.Perm(tenant, "orders:read"), h.trail)
}

type handlers struct{ s *Service }

// trackingLocationRequest deliberately has no minimum/maximum on lng and lat: huma would then
// answer with its generic validation_failed before the service's location_invalid, which is
// the code the courier app handles.
type trackingLocationRequest struct {
	Lng      float64    `json:"lng" doc:"Longitude in WGS 84 degrees, -180 to 180."`
	Lat      float64    `json:"lat" doc:"Latitude in WGS 84 degrees, -85.05 to 85.05 (the live map's range). (0, 0) is refused."`
	Accuracy float64    `json:"accuracy,omitempty" doc:"Horizontal accuracy in metres, 0 to 5000, as the device reports it."`
	At       *time.Time `json:"at,omitempty" doc:"When the device took the fix. Used when within 5 minutes of the server's clock; otherwise the server's time is used."`
}

type trackingLocationInput struct {
	Body trackingLocationRequest
}

func (h *handlers) postLocation(ctx context.Context, in *trackingLocationInput) (*struct{}, error) {
	p, _ := httpx.PrincipalFrom(ctx)
	b := in.Body
	err := h.s.Ping(ctx, httpx.HostFrom(ctx).Tenant, p.UserID, Ping{Lng: b.Lng, Lat: b.Lat, Accuracy: b.Accuracy, At: b.At})
	if err != nil {
		return nil, mapErr(err)
	}
	return &struct{}{}, nil
}

type trackingTrailInput struct {
	OrderID string    `path:"orderId" format:"uuid"`
	After   time.Time `query:"after" doc:"Only points after this time (exclusive): the last point of the previous page."`
	Limit   int       `query:"limit" minimum:"1" maximum:"5000" default:"2000"`
}

type trackingTrailPage struct {
	Items []TrailPoint `json:"items"`
	More  bool         `json:"more" doc:"More points follow; ask again with after = the last item's at."`
}

type trackingTrailOutput struct{ Body trackingTrailPage }

func (h *handlers) trail(ctx context.Context, in *trackingTrailInput) (*trackingTrailOutput, error) {
	var after *time.Time
	if !in.After.IsZero() {
		after = &in.After
	}
	items, more, err := h.s.TrailPage(ctx, httpx.HostFrom(ctx).Tenant, in.OrderID, after, in.Limit)
	if err != nil {
		return nil, mapErr(err)
	}
	return &trackingTrailOutput{Body: trackingTrailPage{Items: items, More: more}}, nil
}
