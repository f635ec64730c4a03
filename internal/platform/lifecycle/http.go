package lifecycle

import (
	"context"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/paotui/paotui/internal/audit"
	"github.com/paotui/paotui/internal/httpx"
)

// problems is the HTTP meaning of the package's errors.
var problems = httpx.ProblemTable{
	httpx.Rule(ErrExportNotFound, http.StatusNotFound, "export_not_found", ""),
	httpx.Rule(ErrExportNotReady, http.StatusConflict, "export_not_ready", ""),
	httpx.Rule(ErrExportExpired, http.StatusGone, "export_expired", ""),
	httpx.Rule(ErrConfirmationMismatch, http.StatusUnprocessableEntity, "confirmation_mismatch", ""),
	httpx.Rule(ErrReasonRequired, http.StatusUnprocessableEntity, "reason_required", ""),
	httpx.Rule(ErrTenantNotFound, http.StatusNotFound, "tenant_not_found", "no such tenant"),
	httpx.Rule(ErrTenantDeleted, http.StatusConflict, "tenant_deleted", ""),
}

// Permissions of the owner's operations. Only the owner role holds them (through its
// wildcard; configs/rbac/policy.csv names them): an archive of everything and the end of
// the service are the owner's decisions, not an admin's.
const (
	PermExport = "tenant_data:export"
	PermDelete = "tenant_data:delete"
)

// exportsPath is where the owner's exports live on the tenant host.
const exportsPath = "/api/v1/admin/exports"

// RegisterHTTP adds the owner's export and deletion operations on tenant hosts and the
// platform's delete-tenant. It is idempotent per api.
func RegisterHTTP(api huma.API, s *Service) {
	if !httpx.Once(api, "lifecycle") {
		return
	}
	h := &handlers{s: s}
	tags := []string{"tenant-data"}
	// A team suspended for an unpaid bill, or held for deletion, must still be able to take
	// its data and leave.
	export := httpx.Perm(httpx.ScopeTenant, PermExport)
	export.WhileSuspended = true
	httpx.Register(api, huma.Operation{
		OperationID: "export-tenant-data", Method: http.MethodPost, Path: exportsPath, Tags: tags,
		Summary: "Export all of the service's data as a zip of JSON and CSV files, one pair per table",
		Description: "The archive is made in the background; follow get-tenant-export until its status is ready, then " +
			"download it within the export TTL (72 hours by default). One export runs at a time: while one is queued or " +
			"running, asking again returns it. Personal data is decrypted in the archive. Also works while the service is paused.",
		DefaultStatus: http.StatusAccepted,
	}, export, h.request)
	httpx.Register(api, huma.Operation{
		OperationID: "list-tenant-exports", Method: http.MethodGet, Path: exportsPath, Tags: tags,
		Summary: "The service's data exports, newest first",
	}, export, h.list)
	httpx.Register(api, huma.Operation{
		OperationID: "get-tenant-export", Method: http.MethodGet, Path: exportsPath + "/{exportId}", Tags: tags,
		Summary: "One data export and its status", Errors: []int{http.StatusNotFound},
	}, export, h.get)
	httpx.Register(api, huma.Operation{
		OperationID: "download-tenant-export", Method: http.MethodGet, Path: exportsPath + "/{exportId}/download", Tags: tags,
		Summary: "Download a ready export's zip archive",
		Description: "manifest.json in the archive lists every table with its row count and columns, and which " +
			"columns were decrypted or left out. Every download is recorded in the audit log.",
		Errors: []int{http.StatusNotFound, http.StatusConflict, http.StatusGone},
		Responses: map[string]*huma.Response{"200": {
			Description: "The zip archive, as an attachment.",
			Content:     map[string]*huma.MediaType{"application/zip": {Schema: &huma.Schema{Type: "string", Format: "binary"}}},
			Headers:     map[string]*huma.Param{"Content-Disposition": {Schema: &huma.Schema{Type: "string"}}},
		}},
	}, export, h.download)

	del := httpx.Perm(httpx.ScopeTenant, PermDelete)
	del.WhileSuspended = true
	httpx.Register(api, huma.Operation{
		OperationID: "request-tenant-deletion", Method: http.MethodPost, Path: "/api/v1/admin/tenant/deletion", Tags: tags,
		Summary: "Close the service and delete all its data after a grace period",
		Description: "Type the service's subdomain as confirmSlug. The service is paused at once for everyone; the owner " +
			"can still sign in and export the data. After the grace period (7 days by default) the data is deleted for " +
			"good; until then the platform can restore the service. Asking again changes nothing.",
		DefaultStatus: http.StatusAccepted,
		Errors:        []int{http.StatusConflict},
	}, del, h.requestDeletion)

	httpx.Register(api, huma.Operation{
		OperationID: "delete-tenant", Method: http.MethodPost, Path: "/api/v1/platform/tenants/{tenantId}/delete", Tags: []string{"platform"},
		Summary: "Delete a tenant after the grace period",
		Description: "The tenant is paused at once and its data deleted after the grace period; resume-tenant before then " +
			"restores it. The subdomain stays taken after deletion. Deleting a tenant already pending deletion keeps its date.",
		DefaultStatus: http.StatusAccepted,
		Errors:        []int{http.StatusNotFound, http.StatusConflict},
	}, httpx.Perm(httpx.ScopePlatform, "tenants:delete"), h.deleteTenant)
}

type handlers struct{ s *Service }

func by(ctx context.Context) audit.Entry {
	p, _ := httpx.PrincipalFrom(ctx)
	return audit.Entry{Actor: p.Actor(), IP: httpx.ClientIP(ctx)}
}

// ExportView is a data export as the owner sees it.
type ExportView struct {
	ID          string       `json:"id" format:"uuid"`
	Status      ExportStatus `json:"status" enum:"queued,running,ready,failed,expired"`
	RequestedBy string       `json:"requestedBy" doc:"Who asked for it, as in the audit log (user:<id>)."`
	SizeBytes   int64        `json:"sizeBytes"`
	Tables      int          `json:"tables" doc:"How many tables the archive holds."`
	CreatedAt   time.Time    `json:"createdAt"`
	FinishedAt  *time.Time   `json:"finishedAt"`
	ExpiresAt   *time.Time   `json:"expiresAt" doc:"After this the archive is removed and can no longer be downloaded."`
	DownloadURL string       `json:"downloadUrl,omitempty" doc:"Path of download-tenant-export on this host, while the export is ready."`
}

func (h *handlers) view(e *Export) ExportView {
	v := ExportView{ID: e.ID, Status: e.Status, RequestedBy: e.RequestedBy, SizeBytes: e.SizeBytes, Tables: e.Tables,
		CreatedAt: e.CreatedAt, FinishedAt: e.FinishedAt, ExpiresAt: e.ExpiresAt}
	switch {
	case e.expiredAt(h.s.now()):
		v.Status = ExportExpired
	case e.Status == ExportReady:
		v.DownloadURL = exportsPath + "/" + e.ID + "/download"
	}
	return v
}

type exportOutput struct {
	Status int
	Body   ExportView
}

func (h *handlers) request(ctx context.Context, _ *struct{}) (*exportOutput, error) {
	e, _, err := h.s.RequestExport(ctx, httpx.HostFrom(ctx).Tenant, by(ctx))
	if err != nil {
		return nil, problems.Map(err)
	}
	return &exportOutput{Status: http.StatusAccepted, Body: h.view(e)}, nil
}

type listInput struct {
	Limit  int `query:"limit" minimum:"1" maximum:"100" default:"20"`
	Offset int `query:"offset" minimum:"0" maximum:"100000" default:"0"`
}

type listOutput struct {
	Body struct {
		Items []ExportView `json:"items"`
		Total int64        `json:"total"`
	}
}

func (h *handlers) list(ctx context.Context, in *listInput) (*listOutput, error) {
	items, total, err := h.s.Exports(ctx, httpx.HostFrom(ctx).Tenant, in.Limit, in.Offset)
	if err != nil {
		return nil, problems.Map(err)
	}
	out := &listOutput{}
	out.Body.Items, out.Body.Total = make([]ExportView, 0, len(items)), total
	for i := range items {
		out.Body.Items = append(out.Body.Items, h.view(&items[i]))
	}
	return out, nil
}

type exportIDInput struct {
	ExportID string `path:"exportId" format:"uuid"`
}

func (h *handlers) get(ctx context.Context, in *exportIDInput) (*exportOutput, error) {
	e, err := h.s.Export(ctx, httpx.HostFrom(ctx).Tenant, in.ExportID)
	if err != nil {
		return nil, problems.Map(err)
	}
	return &exportOutput{Status: http.StatusOK, Body: h.view(e)}, nil
}

func (h *handlers) download(ctx context.Context, in *exportIDInput) (*huma.StreamResponse, error) {
	t := httpx.HostFrom(ctx).Tenant
	d, err := h.s.OpenDownload(ctx, t, in.ExportID, by(ctx))
	if err != nil {
		return nil, problems.Map(err)
	}
	day := d.Export.CreatedAt.UTC().Format("20060102")
	if d.Export.FinishedAt != nil {
		day = d.Export.FinishedAt.UTC().Format("20060102")
	}
	name := "paotui-" + t.Slug + "-" + day + "-" + d.Export.ID[:8] + ".zip"
	return &huma.StreamResponse{Body: func(hc huma.Context) {
		defer d.Close()
		hc.SetHeader("Content-Type", "application/zip")
		hc.SetHeader("Content-Disposition", `attachment; filename="`+name+`"`)
		hc.SetHeader("Content-Length", strconv.FormatInt(d.Size, 10))
		hc.SetHeader("Cache-Control", "no-store")
		hc.SetStatus(http.StatusOK)
		if _, err := io.Copy(hc.BodyWriter(), d); err != nil {
			h.s.log.WarnContext(ctx, "export download cut short", "tenant", t.Slug, "export", d.Export.ID, "err", err)
		}
	}}, nil
}

type deletionInput struct {
	Body struct {
		ConfirmSlug string `json:"confirmSlug" minLength:"1" maxLength:"63" doc:"The service's subdomain, typed to confirm."`
		Reason      string `json:"reason,omitempty" maxLength:"200" doc:"Why, if the owner wants to say; kept in the platform audit log."`
	}
}

type deletionOutput struct {
	Status int
	Body   Deletion
}

func (h *handlers) requestDeletion(ctx context.Context, in *deletionInput) (*deletionOutput, error) {
	d, err := h.s.RequestDeletion(ctx, httpx.HostFrom(ctx).Tenant, in.Body.ConfirmSlug, in.Body.Reason, by(ctx))
	if err != nil {
		return nil, problems.Map(err)
	}
	return &deletionOutput{Status: http.StatusAccepted, Body: *d}, nil
}

type deleteTenantInput struct {
	TenantID int64 `path:"tenantId" minimum:"1"`
	Body     struct {
		Reason string `json:"reason" minLength:"1" maxLength:"200" doc:"Why; kept in the platform audit log and shown to the team."`
	}
}

func (h *handlers) deleteTenant(ctx context.Context, in *deleteTenantInput) (*deletionOutput, error) {
	d, err := h.s.DeleteTenant(ctx, in.TenantID, in.Body.Reason, by(ctx))
	if err != nil {
		return nil, problems.Map(err)
	}
	return &deletionOutput{Status: http.StatusAccepted, Body: *d}, nil
}
