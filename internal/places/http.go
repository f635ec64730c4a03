package places

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"sort"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"gorm.io/gorm"

	"github.com/paotui/paotui/internal/audit"
	"github.com/paotui/paotui/internal/httpx"
	"github.com/paotui/paotui/internal/store"
)

// RegisterHTTP adds the place operations.
func RegisterHTTP(api huma.API, db *store.DB) {
	httpx.Register(api, huma.Operation{
		OperationID: "list-places", Method: http.MethodGet, Path: "/api/v1/places", Tags: []string{"places"},
		Summary: "Campus places to pick as pickup or drop-off (dorms, canteens, parcel stations, gates...)",
	}, httpx.Public(httpx.ScopeTenant), func(ctx context.Context, in *placeListInput) (*placeListOutput, error) {
		out := &placeListOutput{}
		err := db.InTenant(ctx, httpx.HostFrom(ctx).Tenant, func(tx *gorm.DB) error {
			var err error
			out.Body.Items, out.Body.Total, err = ListPlaces(tx, PlaceFilter{Kind: in.Kind, Query: in.Q, Limit: in.Limit, Offset: in.Offset})
			return err
		})
		if err != nil {
			return nil, mapAdminErr(err, inListQuery)
		}
		if out.Body.Items == nil {
			out.Body.Items = []Place{}
		}
		return out, nil
	})
}

type placeListInput struct {
	Kind   string `query:"kind" maxLength:"20" doc:"Only places of this kind (dorm, canteen, parcel_station, gate...)."`
	Q      string `query:"q" maxLength:"40" doc:"Part of the name."`
	Limit  int    `query:"limit" minimum:"1" maximum:"200" default:"100"`
	Offset int    `query:"offset" minimum:"0" maximum:"100000" default:"0"`
}

type placeListOutput struct {
	Body struct {
		Items []Place `json:"items"`
		Total int64   `json:"total"`
	}
}

// adminProblems is the HTTP meaning of the package's errors in the admin operations; an
// *InvalidError also names its field in the problem's errors (see mapAdminErr).
var adminProblems = httpx.ProblemTable{
	httpx.Rule(ErrPlaceNotFound, http.StatusNotFound, "place_not_found", "no such place"),
	httpx.Rule(ErrInvalidPlace, http.StatusUnprocessableEntity, "place_invalid", ""),
	httpx.Rule(ErrDuplicatePlace, http.StatusConflict, "place_exists", "a place with this name exists (it may be disabled); choose another name or edit that place"),
	httpx.Rule(ErrZoneNotFound, http.StatusNotFound, "zone_not_found", "no zone with this name"),
	httpx.Rule(ErrInvalidZone, http.StatusUnprocessableEntity, "zone_invalid", ""),
	httpx.Rule(ErrInvalidHours, http.StatusUnprocessableEntity, "hours_invalid", ""),
	httpx.Rule(ErrClosedDateNotFound, http.StatusNotFound, "closed_date_not_found", "this date is not closed"),
}

// locator turns an *InvalidError's Field into the problem's location ("body.at.lng").
type locator func(field string) string

func inBody(field string) string { return "body." + field }

// inListQuery locates ListPlaces' refusals in the query string.
func inListQuery(field string) string {
	if field == "query" {
		return "query.q"
	}
	return "query." + field
}

// inZonePath locates PutZone's refusals: the name is the path's, the geometry the body's.
func inZonePath(field string) string {
	if field == "name" {
		return "path.name"
	}
	return "body." + field
}

func mapAdminErr(err error, loc locator) error {
	if err == nil {
		return nil
	}
	p, ok := adminProblems.Map(err).(*httpx.Problem)
	if !ok {
		return err
	}
	var ie *InvalidError
	if errors.As(err, &ie) {
		p.Detail = ie.Field + ": " + ie.Reason
		p.Errors = []*huma.ErrorDetail{{Location: loc(ie.Field), Message: ie.Reason}}
	}
	return p
}

// RegisterAdminHTTP adds the tenant admin's settings of places, delivery zones, service hours
// and closed dates. It is idempotent per api: a second call on the same api does nothing, so
// tests may register the operations on an application that already has them.
func RegisterAdminHTTP(api huma.API, db *store.DB) {
	if !httpx.Once(api, "places.admin") {
		return
	}

	h := &adminHandlers{svc: NewService(db)}
	tags := []string{"settings"}
	read, write := httpx.Perm(httpx.ScopeTenant, "settings:read"), httpx.Perm(httpx.ScopeTenant, "settings:write")
	httpx.Register(api, huma.Operation{
		OperationID: "list-places-admin", Method: http.MethodGet, Path: "/api/v1/admin/places", Tags: tags,
		Summary: "Campus places, disabled ones included, in picker order",
	}, read, h.listPlaces)
	httpx.Register(api, huma.Operation{
		OperationID: "create-place", Method: http.MethodPost, Path: "/api/v1/admin/places", Tags: tags,
		Summary: "Add a campus place", DefaultStatus: http.StatusCreated, Errors: []int{http.StatusConflict},
	}, write, h.createPlace)
	httpx.Register(api, huma.Operation{
		OperationID: "update-place", Method: http.MethodPut, Path: "/api/v1/admin/places/{placeId}", Tags: tags,
		Summary: "Rename, move, re-sort, enable or disable a place",
		Errors:  []int{http.StatusNotFound, http.StatusConflict},
	}, write, h.updatePlace)
	httpx.Register(api, huma.Operation{
		OperationID: "delete-place", Method: http.MethodDelete, Path: "/api/v1/admin/places/{placeId}", Tags: tags,
		Summary:       "Disable a place",
		Description:   "Students no longer see it; orders and reports that name it keep it. update-place with enabled true brings it back.",
		DefaultStatus: http.StatusNoContent, Errors: []int{http.StatusNotFound},
	}, write, h.deletePlace)
	httpx.Register(api, huma.Operation{
		OperationID: "list-zones", Method: http.MethodGet, Path: "/api/v1/admin/zones", Tags: tags,
		Summary:     "The delivery zones as a GeoJSON FeatureCollection, for the map",
		Description: "Each feature's id is the zone id; its properties are name and enabled. Orders whose pickup or drop-off lies outside every enabled zone are refused; a tenant without zones delivers anywhere.",
	}, read, h.listZones)
	httpx.Register(api, huma.Operation{
		OperationID: "put-zone", Method: http.MethodPut, Path: "/api/v1/admin/zones/{name}", Tags: tags,
		Summary:     "Create a delivery zone or replace its shape",
		Description: "geometry is a GeoJSON Polygon or MultiPolygon, or a Feature holding one, longitude first. A new zone is enabled; an existing one keeps its enabled flag.",
	}, write, h.putZone)
	httpx.Register(api, huma.Operation{
		OperationID: "set-zone-enabled", Method: http.MethodPost, Path: "/api/v1/admin/zones/{name}/enabled", Tags: tags,
		Summary: "Turn a delivery zone on or off without losing its shape", Errors: []int{http.StatusNotFound},
	}, write, h.setZoneEnabled)
	httpx.Register(api, huma.Operation{
		OperationID: "delete-zone", Method: http.MethodDelete, Path: "/api/v1/admin/zones/{name}", Tags: tags,
		Summary: "Remove a delivery zone", DefaultStatus: http.StatusNoContent, Errors: []int{http.StatusNotFound},
	}, write, h.deleteZone)
	httpx.Register(api, huma.Operation{
		OperationID: "get-service-hours", Method: http.MethodGet, Path: "/api/v1/admin/service-hours", Tags: tags,
		Summary: "Weekly service hours, closed dates and the time zone they are read in",
	}, read, h.getHours)
	httpx.Register(api, huma.Operation{
		OperationID: "put-service-hours", Method: http.MethodPut, Path: "/api/v1/admin/service-hours", Tags: tags,
		Summary: "Replace the weekly service hours",
		Description: "A weekday left out or empty has no service, as long as some weekday has windows; a week with no " +
			"windows at all lifts the hours limit. Windows of a day may touch but not overlap. To close for a day, add a closed date.",
	}, write, h.putHours)
	httpx.Register(api, huma.Operation{
		OperationID: "add-closed-date", Method: http.MethodPost, Path: "/api/v1/admin/closed-dates", Tags: tags,
		Summary: "Close the service for a date (or change the reason shown for it)",
	}, write, h.addClosedDate)
	httpx.Register(api, huma.Operation{
		OperationID: "remove-closed-date", Method: http.MethodDelete, Path: "/api/v1/admin/closed-dates/{date}", Tags: tags,
		Summary: "Reopen a closed date", DefaultStatus: http.StatusNoContent, Errors: []int{http.StatusNotFound},
	}, write, h.removeClosedDate)
}

type adminHandlers struct{ svc *Service }

// by is the audit entry's who and where for a change made in this request.
func by(ctx context.Context) audit.Entry {
	p, _ := httpx.PrincipalFrom(ctx)
	return audit.Entry{Actor: p.Actor(), IP: httpx.ClientIP(ctx)}
}

type adminPlaceListInput struct {
	Kind   string `query:"kind" maxLength:"20" doc:"Only places of this kind (dorm, canteen, parcel_station, gate...)."`
	Q      string `query:"q" maxLength:"40" doc:"Part of the name."`
	Limit  int    `query:"limit" minimum:"1" maximum:"200" default:"50"`
	Offset int    `query:"offset" minimum:"0" maximum:"100000" default:"0"`
}

func (h *adminHandlers) listPlaces(ctx context.Context, in *adminPlaceListInput) (*placeListOutput, error) {
	items, total, err := h.svc.ListPlaces(ctx, httpx.HostFrom(ctx).Tenant,
		PlaceFilter{Kind: in.Kind, Query: in.Q, IncludeDisabled: true, Limit: in.Limit, Offset: in.Offset})
	if err != nil {
		return nil, mapAdminErr(err, inListQuery)
	}
	out := &placeListOutput{}
	out.Body.Items, out.Body.Total = items, total
	if out.Body.Items == nil {
		out.Body.Items = []Place{}
	}
	return out, nil
}

// PlaceDraft is a new place as the admin sends it.
type PlaceDraft struct {
	Name string `json:"name" maxLength:"200" example:"1号宿舍楼"`
	Kind string `json:"kind" maxLength:"20" example:"dorm" doc:"dorm, canteen, parcel_station, library, teaching, clinic, shop, gate, gym, office or other."`
	At   Point  `json:"at"`
	Sort int    `json:"sort,omitempty" doc:"Picker order, ascending; ties by name."`
}

type createPlaceInput struct{ Body PlaceDraft }

type placeOutput struct{ Body Place }

func (h *adminHandlers) createPlace(ctx context.Context, in *createPlaceInput) (*placeOutput, error) {
	d := in.Body
	p, err := h.svc.CreatePlace(ctx, httpx.HostFrom(ctx).Tenant, Place{Name: d.Name, Kind: d.Kind, At: d.At, Sort: d.Sort}, by(ctx))
	if err != nil {
		return nil, mapAdminErr(err, inBody)
	}
	return &placeOutput{Body: p}, nil
}

// PlaceEdit is a place's new state as the admin sends it.
type PlaceEdit struct {
	Name    string `json:"name" maxLength:"200"`
	Kind    string `json:"kind" maxLength:"20"`
	At      Point  `json:"at"`
	Enabled bool   `json:"enabled"`
	Sort    int    `json:"sort"`
}

type placeIDPath struct {
	PlaceID string `path:"placeId" format:"uuid"`
}

type updatePlaceInput struct {
	PlaceID string `path:"placeId" format:"uuid"`
	Body    PlaceEdit
}

func (h *adminHandlers) updatePlace(ctx context.Context, in *updatePlaceInput) (*placeOutput, error) {
	e := in.Body
	p, err := h.svc.UpdatePlace(ctx, httpx.HostFrom(ctx).Tenant,
		Place{ID: in.PlaceID, Name: e.Name, Kind: e.Kind, At: e.At, Enabled: e.Enabled, Sort: e.Sort}, by(ctx))
	if err != nil {
		return nil, mapAdminErr(err, inBody)
	}
	return &placeOutput{Body: p}, nil
}

func (h *adminHandlers) deletePlace(ctx context.Context, in *placeIDPath) (*struct{}, error) {
	if err := h.svc.DeletePlace(ctx, httpx.HostFrom(ctx).Tenant, in.PlaceID, by(ctx)); err != nil {
		return nil, mapAdminErr(err, inBody)
	}
	return &struct{}{}, nil
}

// ZoneFeatureCollection is the tenant's delivery zones as GeoJSON.
type ZoneFeatureCollection struct {
	Type     string        `json:"type" enum:"FeatureCollection"`
	Features []ZoneFeature `json:"features"`
}

// ZoneFeature is one delivery zone as a GeoJSON Feature.
type ZoneFeature struct {
	Type       string          `json:"type" enum:"Feature"`
	ID         string          `json:"id" doc:"The zone id."`
	Properties ZoneProperties  `json:"properties"`
	Geometry   json.RawMessage `json:"geometry" doc:"A GeoJSON Polygon or MultiPolygon, longitude first."`
}

// ZoneProperties are a zone feature's properties.
type ZoneProperties struct {
	Name    string `json:"name"`
	Enabled bool   `json:"enabled"`
}

func zoneFeature(z Zone) (ZoneFeature, error) {
	g, err := MarshalGeometry(z.Geometry)
	if err != nil {
		return ZoneFeature{}, err
	}
	return ZoneFeature{Type: "Feature", ID: z.ID, Properties: ZoneProperties{Name: z.Name, Enabled: z.Enabled}, Geometry: g}, nil
}

type zonesOutput struct{ Body ZoneFeatureCollection }

func (h *adminHandlers) listZones(ctx context.Context, _ *struct{}) (*zonesOutput, error) {
	zones, err := h.svc.Zones(ctx, httpx.HostFrom(ctx).Tenant)
	if err != nil {
		return nil, mapAdminErr(err, inBody)
	}
	out := &zonesOutput{Body: ZoneFeatureCollection{Type: "FeatureCollection", Features: make([]ZoneFeature, 0, len(zones))}}
	for _, z := range zones {
		f, err := zoneFeature(z)
		if err != nil {
			return nil, err
		}
		out.Body.Features = append(out.Body.Features, f)
	}
	return out, nil
}

type zoneNamePath struct {
	Name string `path:"name" maxLength:"200" example:"主校区"`
}

type putZoneInput struct {
	Name string `path:"name" maxLength:"200" example:"主校区"`
	Body struct {
		Geometry json.RawMessage `json:"geometry" doc:"A GeoJSON Polygon or MultiPolygon geometry, or a Feature holding one."`
	}
}

type zoneOutput struct{ Body ZoneFeature }

func zoneReply(z Zone, err error) (*zoneOutput, error) {
	if err != nil {
		return nil, mapAdminErr(err, inZonePath)
	}
	f, err := zoneFeature(z)
	if err != nil {
		return nil, err
	}
	return &zoneOutput{Body: f}, nil
}

func (h *adminHandlers) putZone(ctx context.Context, in *putZoneInput) (*zoneOutput, error) {
	z, err := h.svc.PutZone(ctx, httpx.HostFrom(ctx).Tenant, in.Name, in.Body.Geometry, by(ctx))
	return zoneReply(z, err)
}

type setZoneEnabledInput struct {
	Name string `path:"name" maxLength:"200" example:"主校区"`
	Body struct {
		Enabled bool `json:"enabled"`
	}
}

func (h *adminHandlers) setZoneEnabled(ctx context.Context, in *setZoneEnabledInput) (*zoneOutput, error) {
	z, err := h.svc.SetZoneEnabled(ctx, httpx.HostFrom(ctx).Tenant, in.Name, in.Body.Enabled, by(ctx))
	return zoneReply(z, err)
}

func (h *adminHandlers) deleteZone(ctx context.Context, in *zoneNamePath) (*struct{}, error) {
	if err := h.svc.DeleteZone(ctx, httpx.HostFrom(ctx).Tenant, in.Name, by(ctx)); err != nil {
		return nil, mapAdminErr(err, inZonePath)
	}
	return &struct{}{}, nil
}

// ServiceHours are the tenant's service hours as the admin edits them.
type ServiceHours struct {
	Timezone    string       `json:"timezone" example:"Asia/Shanghai" doc:"The IANA zone the hours and dates are read in."`
	Week        WeekHours    `json:"week"`
	ClosedDates []ClosedDate `json:"closedDates" doc:"Every closed date, oldest first."`
}

// WeekHours are the service windows of each weekday, "HH:MM-HH:MM" in opening order; the end
// may be 24:00. A weekday without windows has no service, unless no weekday has any: then
// there is no hours limit.
type WeekHours struct {
	Mon []string `json:"mon"`
	Tue []string `json:"tue"`
	Wed []string `json:"wed"`
	Thu []string `json:"thu"`
	Fri []string `json:"fri"`
	Sat []string `json:"sat"`
	Sun []string `json:"sun"`
}

// WeekHoursEdit is a new week of service windows; a weekday left out has none.
type WeekHoursEdit struct {
	Mon []string `json:"mon,omitempty" maxItems:"24" example:"[\"07:30-23:00\"]"`
	Tue []string `json:"tue,omitempty" maxItems:"24"`
	Wed []string `json:"wed,omitempty" maxItems:"24"`
	Thu []string `json:"thu,omitempty" maxItems:"24"`
	Fri []string `json:"fri,omitempty" maxItems:"24"`
	Sat []string `json:"sat,omitempty" maxItems:"24"`
	Sun []string `json:"sun,omitempty" maxItems:"24"`
}

// ClosedDate is a local date without service, with the reason students see.
type ClosedDate struct {
	Date   string `json:"date" example:"2025-10-01" doc:"YYYY-MM-DD in the tenant's time zone."`
	Reason string `json:"reason" example:"国庆假期"`
}

func serviceHours(h *Hours) ServiceHours {
	days := func(wd time.Weekday) []string {
		out := make([]string, 0, len(h.Week[wd]))
		for _, w := range h.Week[wd] {
			out = append(out, w.String())
		}
		return out
	}
	v := ServiceHours{Timezone: h.location().String(), ClosedDates: make([]ClosedDate, 0, len(h.Closed)),
		Week: WeekHours{Mon: days(time.Monday), Tue: days(time.Tuesday), Wed: days(time.Wednesday), Thu: days(time.Thursday),
			Fri: days(time.Friday), Sat: days(time.Saturday), Sun: days(time.Sunday)}}
	for d, r := range h.Closed {
		v.ClosedDates = append(v.ClosedDates, ClosedDate{Date: d, Reason: r})
	}
	sort.Slice(v.ClosedDates, func(i, j int) bool { return v.ClosedDates[i].Date < v.ClosedDates[j].Date })
	return v
}

type hoursOutput struct{ Body ServiceHours }

func hoursReply(h *Hours, err error) (*hoursOutput, error) {
	if err != nil {
		return nil, mapAdminErr(err, inBody)
	}
	return &hoursOutput{Body: serviceHours(h)}, nil
}

func (h *adminHandlers) getHours(ctx context.Context, _ *struct{}) (*hoursOutput, error) {
	return hoursReply(h.svc.Hours(ctx, httpx.HostFrom(ctx).Tenant))
}

type putHoursInput struct {
	Body struct {
		Week WeekHoursEdit `json:"week"`
	}
}

func (h *adminHandlers) putHours(ctx context.Context, in *putHoursInput) (*hoursOutput, error) {
	w := in.Body.Week
	days := map[string][]string{}
	for day, windows := range map[string][]string{"mon": w.Mon, "tue": w.Tue, "wed": w.Wed, "thu": w.Thu, "fri": w.Fri, "sat": w.Sat, "sun": w.Sun} {
		if len(windows) > 0 {
			days[day] = windows
		}
	}
	return hoursReply(h.svc.PutHours(ctx, httpx.HostFrom(ctx).Tenant, days, by(ctx)))
}

type addClosedDateInput struct {
	Body ClosedDate
}

type closedDateOutput struct{ Body ClosedDate }

func (h *adminHandlers) addClosedDate(ctx context.Context, in *addClosedDateInput) (*closedDateOutput, error) {
	hours, err := h.svc.AddClosedDate(ctx, httpx.HostFrom(ctx).Tenant, in.Body.Date, in.Body.Reason, by(ctx))
	if err != nil {
		return nil, mapAdminErr(err, inBody)
	}
	return &closedDateOutput{Body: ClosedDate{Date: in.Body.Date, Reason: hours.Closed[in.Body.Date]}}, nil
}

type closedDatePath struct {
	Date string `path:"date" maxLength:"10" example:"2025-10-01"`
}

func (h *adminHandlers) removeClosedDate(ctx context.Context, in *closedDatePath) (*struct{}, error) {
	if err := h.svc.RemoveClosedDate(ctx, httpx.HostFrom(ctx).Tenant, in.Date, by(ctx)); err != nil {
		return nil, mapAdminErr(err, inBody)
	}
	return &struct{}{}, nil
}
