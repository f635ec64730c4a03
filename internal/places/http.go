package places

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"
	"gorm.io/gorm"

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
		if out.Body.Items == nil {
			out.Body.Items = []Place{}
		}
		return out, err
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
