package httpx

import (
	"bytes"
	"context"
	"crypto/sha256"
	"io"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"github.com/paotui/paotui/internal/platform/tenancy"
)

// IdempotencyHeader carries the client's key for a money-moving request.
const IdempotencyHeader = "Idempotency-Key"

// SavedReply is the first reply to an idempotent request.
type SavedReply struct {
	RequestHash []byte
	Status      int
	Body        []byte
}

// IdempotencyStore keeps replies per tenant, caller, operation and key.
type IdempotencyStore interface {
	// Lock claims the key while the first request runs; ok is false if another request with
	// the same key is running now.
	Lock(ctx context.Context, t *tenancy.Tenant, principal, op, key string) (unlock func(), ok bool, err error)
	Load(ctx context.Context, t *tenancy.Tenant, principal, op, key string) (*SavedReply, error)
	Save(ctx context.Context, t *tenancy.Tenant, principal, op, key string, r SavedReply) error
}

// idempotent runs an operation declared Idempotent once per Idempotency-Key: a retry with the
// same key and request gets the stored reply (status and body) without running again; the same
// key with a different request is refused. Server faults are not stored, so they can be retried.
func (s *Server) idempotent(ctx huma.Context, next func(huma.Context), key string) {
	ri := info(ctx.Context())
	t := ri.host.Tenant
	if len(key) > 200 {
		s.writeProblem(ctx, NewProblem(http.StatusBadRequest, "idempotency_key_invalid", "the Idempotency-Key must be at most 200 characters"))
		return
	}
	body, err := io.ReadAll(ctx.BodyReader())
	if err != nil {
		s.writeProblem(ctx, NewProblem(http.StatusBadRequest, "bad_request", "could not read the request body"))
		return
	}
	u := ctx.URL()
	h := sha256.New()
	h.Write([]byte(ctx.Method() + " " + u.Path + "?" + u.RawQuery + "\n"))
	h.Write(body)
	hash := h.Sum(nil)
	principal := ri.principal.Actor()
	op := ri.operation
	c := ctx.Context()
	unlock, ok, err := s.idem.Lock(c, t, principal, op, key)
	if err != nil {
		logFault(c, "idempotency lock", []error{err})
		s.writeProblem(ctx, NewProblem(http.StatusServiceUnavailable, "unavailable", "try again in a moment").WithRetryAfter(1e9))
		return
	}
	if !ok {
		s.writeProblem(ctx, NewProblem(http.StatusConflict, "idempotency_in_progress",
			"a request with this Idempotency-Key is still running; retry shortly").WithRetryAfter(1e9))
		return
	}
	defer unlock()
	saved, err := s.idem.Load(c, t, principal, op, key)
	if err != nil {
		logFault(c, "idempotency load", []error{err})
		s.writeProblem(ctx, NewProblem(http.StatusInternalServerError, "internal", internalDetail))
		return
	}
	if saved != nil {
		if !bytes.Equal(saved.RequestHash, hash) {
			s.writeProblem(ctx, NewProblem(http.StatusUnprocessableEntity, "idempotency_key_reused",
				"this Idempotency-Key was used for a different request; use a new key"))
			return
		}
		ctx.SetHeader("Idempotent-Replayed", "true")
		ctx.SetHeader("Content-Type", contentTypeOf(saved))
		ctx.SetStatus(saved.Status)
		_, _ = ctx.BodyWriter().Write(saved.Body)
		return
	}
	rc := &recordingCtx{humaCtx: ctx, body: body}
	next(rc)
	status := rc.Status()
	if status == 0 {
		status = http.StatusOK
	}
	if status < 500 {
		if err := s.idem.Save(c, t, principal, op, key, SavedReply{RequestHash: hash, Status: status, Body: rc.out.Bytes()}); err != nil {
			logFault(c, "idempotency save", []error{err})
		}
	}
}

func contentTypeOf(r *SavedReply) string {
	if r.Status >= 400 {
		return "application/problem+json"
	}
	return "application/json"
}

// humaCtx lets recordingCtx embed huma.Context without a field named Context hiding the
// interface's Context() method.
type humaCtx = huma.Context

// recordingCtx replays the request body the gate already read and copies the reply.
type recordingCtx struct {
	humaCtx
	body   []byte
	status int
	out    bytes.Buffer
}

func (c *recordingCtx) Unwrap() huma.Context  { return c.humaCtx }
func (c *recordingCtx) BodyReader() io.Reader { return bytes.NewReader(c.body) }
func (c *recordingCtx) SetStatus(code int)    { c.status = code; c.humaCtx.SetStatus(code) }
func (c *recordingCtx) Status() int           { return c.status }
func (c *recordingCtx) BodyWriter() io.Writer { return io.MultiWriter(c.humaCtx.BodyWriter(), &c.out) }
