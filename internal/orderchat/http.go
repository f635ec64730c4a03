package orderchat

import (
	"context"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strconv"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/paotui/paotui/internal/httpx"
	"github.com/paotui/paotui/internal/platform/tenancy"
)

// Errors of the upload form itself (the HTTP layer's, not the service's).
var (
	errNotMultipart = errors.New("send multipart/form-data with the image in a field named photo")
	errNoPhotoField = errors.New("the form has no field named photo")
	errFormTooLarge = errors.New("the form's other fields are too large")
)

// Problems is the HTTP meaning of the package's errors. The orders domain surfaces
// ErrPhotoNotFound from deliver-order, so the wiring gives it this table too.
var Problems = httpx.ProblemTable{
	httpx.Rule(ErrNotFound, http.StatusNotFound, "order_not_found", "no such order"),
	httpx.Rule(ErrBodyInvalid, http.StatusUnprocessableEntity, "message_invalid", ""),
	httpx.Rule(ErrChatClosed, http.StatusConflict, "chat_closed", ""),
	httpx.Rule(ErrRateLimited, http.StatusTooManyRequests, "chat_rate_limited", ""),
	httpx.Rule(ErrPhotoTooLarge, http.StatusRequestEntityTooLarge, "photo_too_large", ""),
	httpx.Rule(ErrPhotoType, http.StatusUnsupportedMediaType, "photo_type", ""),
	httpx.Rule(ErrPhotoNotFound, http.StatusNotFound, "photo_not_found", ""),
	httpx.Rule(ErrPhotoNotAllowed, http.StatusConflict, "photo_not_allowed", ""),
	httpx.Rule(ErrTooManyPhotos, http.StatusConflict, "photo_limit", ""),
	httpx.Rule(ErrUpload, http.StatusBadRequest, "photo_upload_failed", ""),
	httpx.Rule(errNotMultipart, http.StatusUnsupportedMediaType, "photo_form_invalid", ""),
	httpx.Rule(errNoPhotoField, http.StatusUnprocessableEntity, "photo_missing", ""),
	httpx.Rule(errFormTooLarge, http.StatusRequestEntityTooLarge, "photo_form_too_large", ""),
}

// RegisterHTTP adds the chat and photo operations (tenant hosts). Every operation first
// checks its permission at the gate; students and couriers hold orderchat:* and trips:* for
// their own orders, so the service then decides who the caller is for this order: its
// student, its current courier, staff (IsStaff: orders:read as well), or nobody (404).
func RegisterHTTP(api huma.API, s *Service) {
	h := &handlers{s: s}
	tenant := httpx.ScopeTenant
	tags := []string{"order-chat"}
	httpx.Register(api, huma.Operation{OperationID: "list-order-messages", Method: http.MethodGet,
		Path: "/api/v1/orders/{orderId}/messages", Tags: tags,
		Summary: "Read an order's chat, oldest first",
		Description: "For the order's student, its current courier and staff. Page with after = the last id seen " +
			"(also the way to poll for new messages). Staff reads are audited.",
		Errors: []int{http.StatusNotFound}},
		httpx.Perm(tenant, "orderchat:read"), h.list)
	httpx.Register(api, huma.Operation{OperationID: "send-order-message", Method: http.MethodPost,
		Path: "/api/v1/orders/{orderId}/messages", Tags: tags,
		Summary: "Write in an order's chat",
		Description: "The student and the current courier may write until the order is finished (a delivered order " +
			"stays open until it is confirmed); staff may write at any time. 1 to 500 characters; at most 20 messages " +
			"a minute per sender and order (429 chat_rate_limited with Retry-After).",
		DefaultStatus: http.StatusCreated,
		Errors:        []int{http.StatusNotFound, http.StatusConflict, http.StatusTooManyRequests}},
		httpx.Perm(tenant, "orderchat:write"), h.send)
	httpx.Register(api, huma.Operation{OperationID: "upload-delivery-photo", Method: http.MethodPost,
		Path: photosPath, Tags: []string{"trips"},
		Summary: "Upload a photo of the trip (proof of delivery) as the order's courier",
		Description: "multipart/form-data with the image in the field photo: JPEG, PNG or WebP (judged from the bytes, " +
			"whatever the part's Content-Type says), at most 5 MiB, at most 10 per order, while the order is accepted " +
			"or picked up. Pass the returned id to deliver-order as photoId.",
		DefaultStatus: http.StatusCreated,
		Errors: []int{http.StatusBadRequest, http.StatusNotFound, http.StatusConflict,
			http.StatusRequestEntityTooLarge, http.StatusUnsupportedMediaType}},
		httpx.Perm(tenant, "trips:photo").WithOwnBodyLimit(), h.upload)
	// Documented after registration: a request body declared on the operation would make huma
	// read and validate the body itself before the handler runs (see deliveryPhotoInput).
	if item := api.OpenAPI().Paths[photosPath]; item != nil && item.Post != nil {
		item.Post.RequestBody = &huma.RequestBody{Required: true, Content: map[string]*huma.MediaType{"multipart/form-data": {
			Schema: &huma.Schema{Type: huma.TypeObject, Required: []string{"photo"}, Properties: map[string]*huma.Schema{
				"photo": {Type: huma.TypeString, Format: "binary", Description: "The image: JPEG, PNG or WebP, at most 5 MiB."},
			}},
			Encoding: map[string]*huma.Encoding{"photo": {ContentType: "image/jpeg, image/png, image/webp"}},
		}}}
	}
	httpx.Register(api, huma.Operation{OperationID: "get-order-photo", Method: http.MethodGet,
		Path: "/api/v1/orders/{orderId}/photos/{photoId}", Tags: tags,
		Summary:     "Download a photo of an order",
		Description: "For the order's student, its current courier and staff; staff reads are audited.",
		Responses: map[string]*huma.Response{"200": {
			Description: "The image, with its content type.",
			Content: map[string]*huma.MediaType{
				"image/jpeg": {Schema: &huma.Schema{Type: huma.TypeString, Format: "binary"}},
				"image/png":  {Schema: &huma.Schema{Type: huma.TypeString, Format: "binary"}},
				"image/webp": {Schema: &huma.Schema{Type: huma.TypeString, Format: "binary"}},
			},
			Headers: map[string]*huma.Param{
				"Cache-Control": {Schema: &huma.Schema{Type: huma.TypeString}, Description: "private: never kept by shared caches."},
				"ETag":          {Schema: &huma.Schema{Type: huma.TypeString}, Description: "The photo's SHA-256."},
			},
		}},
		Errors: []int{http.StatusNotFound}},
		httpx.Perm(tenant, "orderchat:read"), h.photo)
}

const photosPath = "/api/v1/orders/{orderId}/photos"

type handlers struct{ s *Service }

// caller is the tenant, the signed-in user and whether they are staff for the chat.
func (h *handlers) caller(ctx context.Context) (*tenancy.Tenant, string, bool, error) {
	t := httpx.HostFrom(ctx).Tenant
	p, _ := httpx.PrincipalFrom(ctx)
	staff, err := h.s.IsStaff(ctx, t, p.UserID)
	return t, p.UserID, staff, err
}

// orderChatMessage is Message under a name of its own in the OpenAPI document.
type orderChatMessage Message

type orderMessageListInput struct {
	OrderID string `path:"orderId" format:"uuid"`
	After   int64  `query:"after" minimum:"0" doc:"Only messages with a larger id (the last id already seen)."`
	Limit   int    `query:"limit" minimum:"1" maximum:"100" default:"50"`
}

type orderMessageListOutput struct {
	Body struct {
		Items []orderChatMessage `json:"items"`
		More  bool               `json:"more" doc:"More messages follow; ask again with after = the last item's id."`
	}
}

func (h *handlers) list(ctx context.Context, in *orderMessageListInput) (*orderMessageListOutput, error) {
	t, me, staff, err := h.caller(ctx)
	if err != nil {
		return nil, err
	}
	page, err := h.s.List(ctx, t, me, staff, in.OrderID, in.After, in.Limit)
	if err != nil {
		return nil, Problems.Map(err)
	}
	out := &orderMessageListOutput{}
	out.Body.Items = make([]orderChatMessage, 0, len(page.Items))
	for _, m := range page.Items {
		out.Body.Items = append(out.Body.Items, orderChatMessage(m))
	}
	out.Body.More = page.More
	return out, nil
}

type orderMessageSendInput struct {
	OrderID string `path:"orderId" format:"uuid"`
	Body    struct {
		Body string `json:"body" minLength:"1" maxLength:"2000" doc:"1 to 500 characters once trimmed."`
	}
}

type orderMessageOutput struct{ Body orderChatMessage }

func (h *handlers) send(ctx context.Context, in *orderMessageSendInput) (*orderMessageOutput, error) {
	t, me, staff, err := h.caller(ctx)
	if err != nil {
		return nil, err
	}
	m, err := h.s.Send(ctx, t, me, staff, in.OrderID, in.Body.Body)
	if err != nil {
		return nil, Problems.Map(err)
	}
	return &orderMessageOutput{Body: orderChatMessage(*m)}, nil
}

// deliveryPhotoInput has no Body field, so huma leaves the request body unread; Resolve hands
// the raw stream to the handler, which parses the form part by part and reads the photo no
// further than the service's limit. (huma's own multipart support parses the whole form,
// spilling files to disk, before the handler can look at a size.)
type deliveryPhotoInput struct {
	OrderID     string `path:"orderId" format:"uuid"`
	contentType string
	body        io.Reader
}

// photoReadTimeout replaces the server's read timeout (http.read_timeout, 15s by default) for
// an upload: 5 MiB over a weak campus mobile link takes longer than that. It applies only
// once the gate has let the courier in, so it gives slow clients nothing on other operations.
const photoReadTimeout = 2 * time.Minute

// Resolve implements huma.Resolver.
func (in *deliveryPhotoInput) Resolve(ctx huma.Context) []error {
	in.contentType, in.body = ctx.Header("Content-Type"), ctx.BodyReader()
	_ = ctx.SetReadDeadline(time.Now().Add(photoReadTimeout)) // best effort: not every writer supports it
	return nil
}

type deliveryPhotoOutput struct {
	Body struct {
		ID          string `json:"id" format:"uuid"`
		ContentType string `json:"contentType" enum:"image/jpeg,image/png,image/webp"`
		Size        int64  `json:"size" doc:"Bytes."`
	}
}

// maxFormOverhead bounds what the form may hold besides the photo (other fields, part
// headers are bounded by mime/multipart itself).
const maxFormOverhead = 64 << 10

func (h *handlers) upload(ctx context.Context, in *deliveryPhotoInput) (*deliveryPhotoOutput, error) {
	t := httpx.HostFrom(ctx).Tenant
	p, _ := httpx.PrincipalFrom(ctx)
	me := p.UserID
	mt, params, err := mime.ParseMediaType(in.contentType)
	if err != nil || mt != "multipart/form-data" || params["boundary"] == "" || in.body == nil {
		return nil, Problems.Map(errNotMultipart)
	}
	mr := multipart.NewReader(in.body, params["boundary"])
	skipped := int64(0)
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return nil, Problems.Map(errNoPhotoField)
		}
		if err != nil {
			return nil, Problems.Map(errNotMultipart)
		}
		if part.FormName() != "photo" {
			n, err := io.Copy(io.Discard, io.LimitReader(part, maxFormOverhead-skipped+1))
			skipped += n
			if skipped > maxFormOverhead {
				return nil, Problems.Map(errFormTooLarge)
			}
			if err != nil {
				return nil, Problems.Map(ErrUpload)
			}
			continue
		}
		ph, err := h.s.UploadPhoto(ctx, t, me, in.OrderID, part.Header.Get("Content-Type"), part)
		if err != nil {
			return nil, Problems.Map(err)
		}
		out := &deliveryPhotoOutput{}
		out.Body.ID, out.Body.ContentType, out.Body.Size = ph.ID, ph.ContentType, ph.Size
		return out, nil
	}
}

type orderPhotoInput struct {
	OrderID string `path:"orderId" format:"uuid"`
	PhotoID string `path:"photoId" format:"uuid"`
}

func (h *handlers) photo(ctx context.Context, in *orderPhotoInput) (*huma.StreamResponse, error) {
	t, me, staff, err := h.caller(ctx)
	if err != nil {
		return nil, err
	}
	rc, ph, err := h.s.OpenPhoto(ctx, t, me, staff, in.OrderID, in.PhotoID)
	if err != nil {
		return nil, Problems.Map(err)
	}
	return &huma.StreamResponse{Body: func(hc huma.Context) {
		defer rc.Close()
		hc.SetHeader("Content-Type", ph.ContentType)
		hc.SetHeader("Content-Length", strconv.FormatInt(ph.Size, 10))
		// private: the photo shows a student's door; shared caches and CDNs must not keep it.
		hc.SetHeader("Cache-Control", "private")
		hc.SetHeader("ETag", `"`+ph.SHA256+`"`)
		hc.SetHeader("X-Content-Type-Options", "nosniff")
		hc.SetHeader("Content-Disposition", `inline; filename="`+ph.ID+"."+photoTypes[ph.ContentType]+`"`)
		hc.SetStatus(http.StatusOK)
		if _, err := io.Copy(hc.BodyWriter(), rc); err != nil {
			h.s.log.WarnContext(ctx, "orderchat: photo download cut short", "tenant", t.Slug, "photo", ph.ID, "err", err)
		}
	}}, nil
}
