package catalog

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"
	"gorm.io/gorm"

	"github.com/paotui/paotui/internal/httpx"
	"github.com/paotui/paotui/internal/store"
)

// RegisterHTTP adds the task-type operations.
func RegisterHTTP(api huma.API, db *store.DB) {
	httpx.Register(api, huma.Operation{
		OperationID: "list-task-types", Method: http.MethodGet, Path: "/api/v1/task-types", Tags: []string{"catalog"},
		Summary: "The errands this service offers, in display order, with their form fields and prices",
	}, httpx.Public(httpx.ScopeTenant), func(ctx context.Context, _ *struct{}) (*taskTypeListOutput, error) {
		out := &taskTypeListOutput{}
		err := db.InTenant(ctx, httpx.HostFrom(ctx).Tenant, func(tx *gorm.DB) error {
			var err error
			out.Body.Items, err = List(tx, false)
			return err
		})
		if out.Body.Items == nil {
			out.Body.Items = []TaskType{}
		}
		return out, err
	})
}

type taskTypeListOutput struct {
	Body struct {
		Items []TaskType `json:"items"`
	}
}
