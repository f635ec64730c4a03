package catalog

import (
	"context"
	"errors"
	"net/http"

	"github.com/danielgtaylor/huma/v2"
	"gorm.io/gorm"

	"github.com/paotui/paotui/internal/audit"
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

// adminProblems is the HTTP meaning of the package's errors in the admin operations;
// *ValidationError is mapped by mapAdminErr so the form can highlight the field.
var adminProblems = httpx.ProblemTable{
	httpx.Rule(ErrNotFound, http.StatusNotFound, "task_type_not_found", "no task type with this key"),
	httpx.Rule(ErrDuplicate, http.StatusConflict, "task_type_exists", "a task type with this key exists; choose another key"),
	httpx.Rule(ErrVersionConflict, http.StatusConflict, "task_type_version_conflict",
		"someone else changed this task type since you opened it; reload it and redo your edit"),
	httpx.Rule(ErrInvalid, http.StatusUnprocessableEntity, "task_type_invalid", ""),
}

func mapAdminErr(err error) error {
	var ve *ValidationError
	if errors.As(err, &ve) {
		p := httpx.NewProblem(http.StatusUnprocessableEntity, "task_type_invalid", "%s", ve.Error())
		p.Errors = []*huma.ErrorDetail{{Location: "body." + ve.Field, Message: ve.Reason}}
		return p
	}
	return adminProblems.Map(err)
}

// RegisterAdminHTTP adds the tenant admin's task type settings operations. It is idempotent per
// api: a second call on the same api does nothing, so tests may register the operations on an
// application that already has them.
func RegisterAdminHTTP(api huma.API, db *store.DB) {
	if !httpx.Once(api, "catalog.admin") {
		return
	}

	h := &adminHandlers{svc: NewService(db)}
	tags := []string{"settings"}
	read, write := httpx.Perm(httpx.ScopeTenant, "settings:read"), httpx.Perm(httpx.ScopeTenant, "settings:write")
	httpx.Register(api, huma.Operation{
		OperationID: "list-task-types-admin", Method: http.MethodGet, Path: "/api/v1/admin/task-types", Tags: tags,
		Summary: "Every task type, disabled ones included, in display order",
	}, read, h.list)
	httpx.Register(api, huma.Operation{
		OperationID: "create-task-type", Method: http.MethodPost, Path: "/api/v1/admin/task-types", Tags: tags,
		Summary:       "Add a task type (placed after the existing ones)",
		Description:   "Keys never change and are never reused: orders refer to them.",
		DefaultStatus: http.StatusCreated, Errors: []int{http.StatusConflict},
	}, write, h.create)
	httpx.Register(api, huma.Operation{
		OperationID: "update-task-type", Method: http.MethodPut, Path: "/api/v1/admin/task-types/{key}", Tags: tags,
		Summary: "Replace a task type's name, form, pricing, hours and commission override",
		Description: "Send the version you read; if someone changed the type since, the edit is refused with " +
			"task_type_version_conflict and nothing is overwritten.",
		Errors: []int{http.StatusNotFound, http.StatusConflict},
	}, write, h.update)
	httpx.Register(api, huma.Operation{
		OperationID: "set-task-type-enabled", Method: http.MethodPost, Path: "/api/v1/admin/task-types/{key}/enabled", Tags: tags,
		Summary: "Offer or withdraw a task type; orders already placed are not touched",
		Errors:  []int{http.StatusNotFound},
	}, write, h.setEnabled)
	httpx.Register(api, huma.Operation{
		OperationID: "reorder-task-types", Method: http.MethodPut, Path: "/api/v1/admin/task-types/order", Tags: tags,
		Summary:     "Set the display order of the task types",
		Description: "keys must name every task type, disabled ones included, exactly once.",
	}, write, h.reorder)
}

type adminHandlers struct{ svc *Service }

// by is the audit entry's who and where for a change made in this request.
func by(ctx context.Context) audit.Entry {
	p, _ := httpx.PrincipalFrom(ctx)
	return audit.Entry{Actor: p.Actor(), IP: httpx.ClientIP(ctx)}
}

type adminListInput struct {
	Limit  int `query:"limit" minimum:"1" maximum:"200" default:"100"`
	Offset int `query:"offset" minimum:"0" maximum:"100000" default:"0"`
}

type adminListOutput struct {
	Body struct {
		Items []TaskType `json:"items"`
		Total int        `json:"total"`
	}
}

func (h *adminHandlers) list(ctx context.Context, in *adminListInput) (*adminListOutput, error) {
	items, total, err := h.svc.List(ctx, httpx.HostFrom(ctx).Tenant, true, in.Limit, in.Offset)
	if err != nil {
		return nil, mapAdminErr(err)
	}
	out := &adminListOutput{}
	out.Body.Items, out.Body.Total = items, total
	if out.Body.Items == nil {
		out.Body.Items = []TaskType{}
	}
	return out, nil
}

// TaskTypeDraft is a new task type as the admin sends it.
type TaskTypeDraft struct {
	Key            string              `json:"key" maxLength:"100" example:"laundry" doc:"2-40 lowercase letters, digits or _, starting with a letter; never changes."`
	Name           Text                `json:"name"`
	Enabled        *bool               `json:"enabled,omitempty" doc:"Offer it to students right away (default true)."`
	Fields         []Field             `json:"fields,omitempty" maxItems:"100" doc:"The form students fill in, in order."`
	Pricing        Pricing             `json:"pricing"`
	ServiceHours   map[string][]string `json:"serviceHours,omitempty" doc:"Replaces the tenant's weekly hours for this type: mon..sun -> HH:MM-HH:MM windows."`
	CourierShareBP *int                `json:"courierShareBp,omitempty" doc:"Overrides the tenant's courier share, in basis points."`
}

type createInput struct{ Body TaskTypeDraft }

type taskTypeOutput struct{ Body TaskType }

func (h *adminHandlers) create(ctx context.Context, in *createInput) (*taskTypeOutput, error) {
	d := in.Body
	tt := TaskType{Key: d.Key, Name: d.Name, Enabled: d.Enabled == nil || *d.Enabled, Fields: d.Fields, Pricing: d.Pricing,
		ServiceHours: d.ServiceHours, CourierShareBP: d.CourierShareBP}
	if tt.Fields == nil {
		tt.Fields = []Field{}
	}
	out, err := h.svc.Create(ctx, httpx.HostFrom(ctx).Tenant, tt, by(ctx))
	if err != nil {
		return nil, mapAdminErr(err)
	}
	return &taskTypeOutput{Body: out}, nil
}

// TaskTypeEdit is a task type's new definition as the admin sends it, with the version read.
type TaskTypeEdit struct {
	Name           Text                `json:"name"`
	Enabled        bool                `json:"enabled"`
	Fields         []Field             `json:"fields,omitempty" maxItems:"100"`
	Pricing        Pricing             `json:"pricing"`
	ServiceHours   map[string][]string `json:"serviceHours,omitempty" doc:"Empty or absent: the tenant's weekly hours apply."`
	CourierShareBP *int                `json:"courierShareBp,omitempty" doc:"Absent: the tenant's split applies."`
	Version        int                 `json:"version" minimum:"1" doc:"The version this edit is based on."`
}

type updateInput struct {
	Key  string `path:"key" maxLength:"40" example:"parcel_pickup"`
	Body TaskTypeEdit
}

func (h *adminHandlers) update(ctx context.Context, in *updateInput) (*taskTypeOutput, error) {
	e := in.Body
	tt := TaskType{Name: e.Name, Enabled: e.Enabled, Fields: e.Fields, Pricing: e.Pricing, ServiceHours: e.ServiceHours,
		CourierShareBP: e.CourierShareBP}
	if tt.Fields == nil {
		tt.Fields = []Field{}
	}
	out, err := h.svc.Update(ctx, httpx.HostFrom(ctx).Tenant, in.Key, tt, e.Version, by(ctx))
	if err != nil {
		return nil, mapAdminErr(err)
	}
	return &taskTypeOutput{Body: out}, nil
}

type setEnabledInput struct {
	Key  string `path:"key" maxLength:"40" example:"parcel_pickup"`
	Body struct {
		Enabled bool `json:"enabled"`
	}
}

func (h *adminHandlers) setEnabled(ctx context.Context, in *setEnabledInput) (*taskTypeOutput, error) {
	out, err := h.svc.SetEnabled(ctx, httpx.HostFrom(ctx).Tenant, in.Key, in.Body.Enabled, by(ctx))
	if err != nil {
		return nil, mapAdminErr(err)
	}
	return &taskTypeOutput{Body: out}, nil
}

type reorderInput struct {
	Body struct {
		Keys []string `json:"keys" maxItems:"1000" doc:"Every task type key, in the new display order."`
	}
}

func (h *adminHandlers) reorder(ctx context.Context, in *reorderInput) (*taskTypeListOutput, error) {
	items, err := h.svc.Reorder(ctx, httpx.HostFrom(ctx).Tenant, in.Body.Keys, by(ctx))
	if err != nil {
		return nil, mapAdminErr(err)
	}
	out := &taskTypeListOutput{}
	out.Body.Items = items
	return out, nil
}
