package httpx

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/danielgtaylor/huma/v2"
)

// Problem is an RFC 9457 problem detail with a stable machine code. Clients switch on Code;
// Detail is for people and may change.
type Problem struct {
	Type     string              `json:"type,omitempty" doc:"A URI for the problem type (about:blank when only the code matters)."`
	Title    string              `json:"title" doc:"Short summary of the problem type."`
	Status   int                 `json:"status" doc:"HTTP status code."`
	Code     string              `json:"code" doc:"Stable machine-readable code, e.g. order_not_grabbable."`
	Detail   string              `json:"detail,omitempty" doc:"Human-readable explanation of this occurrence."`
	Instance string              `json:"instance,omitempty" doc:"The request id of this occurrence."`
	Errors   []*huma.ErrorDetail `json:"errors,omitempty" doc:"Field-level errors for validation problems."`

	retryAfter time.Duration
}

func (p *Problem) Error() string { return p.Code + ": " + p.Detail }

// GetStatus makes Problem a huma.StatusError.
func (p *Problem) GetStatus() int { return p.Status }

// ContentType makes huma answer application/problem+json.
func (p *Problem) ContentType(ct string) string {
	if ct == "application/json" {
		return "application/problem+json"
	}
	return ct
}

// GetHeaders adds Retry-After to rate-limit and unavailable problems.
func (p *Problem) GetHeaders() http.Header {
	if p.retryAfter <= 0 {
		return nil
	}
	secs := int(p.retryAfter.Round(time.Second) / time.Second)
	if secs < 1 {
		secs = 1
	}
	return http.Header{"Retry-After": []string{strconv.Itoa(secs)}}
}

// NewProblem builds a problem; detail may use fmt verbs.
func NewProblem(status int, code, detail string, args ...any) *Problem {
	if len(args) > 0 {
		detail = fmt.Sprintf(detail, args...)
	}
	return &Problem{Type: "about:blank", Title: http.StatusText(status), Status: status, Code: code, Detail: detail}
}

// WithRetryAfter sets the Retry-After header of the problem.
func (p *Problem) WithRetryAfter(d time.Duration) *Problem { p.retryAfter = d; return p }

// Common problems of the platform itself.
var (
	ErrUnauthorized = func() *Problem {
		return NewProblem(http.StatusUnauthorized, "unauthorized", "sign in first: send a valid Bearer access token")
	}
	ErrForbidden = func(perm string) *Problem {
		return NewProblem(http.StatusForbidden, "permission_denied", "this needs the %s permission", perm)
	}
	ErrNotFound = func(what string) *Problem {
		return NewProblem(http.StatusNotFound, "not_found", "%s not found", what)
	}
)

// codeForStatus gives framework-generated errors (bad JSON, validation, unknown route) a code.
func codeForStatus(status int) string {
	switch status {
	case http.StatusBadRequest:
		return "bad_request"
	case http.StatusUnauthorized:
		return "unauthorized"
	case http.StatusForbidden:
		return "forbidden"
	case http.StatusNotFound:
		return "not_found"
	case http.StatusMethodNotAllowed:
		return "method_not_allowed"
	case http.StatusNotAcceptable:
		return "not_acceptable"
	case http.StatusRequestEntityTooLarge:
		return "body_too_large"
	case http.StatusUnsupportedMediaType:
		return "unsupported_media_type"
	case http.StatusUnprocessableEntity:
		return "validation_failed"
	case http.StatusTooManyRequests:
		return "rate_limited"
	case http.StatusServiceUnavailable:
		return "unavailable"
	}
	if status >= 500 {
		return "internal"
	}
	return "error"
}

// internalDetail is all a client learns of a server fault; the cause goes to the log.
const internalDetail = "something went wrong on our side; the request id identifies it in our logs"

func init() {
	// Huma builds its own errors (body parsing, validation, unknown failures) through NewError;
	// route them through Problem so every error body has a code, and never let a server
	// fault's text (SQL, stack) reach the client.
	huma.NewError = func(status int, msg string, errs ...error) huma.StatusError {
		if status >= 500 {
			return &Problem{Type: "about:blank", Title: http.StatusText(status), Status: status, Code: "internal", Detail: internalDetail}
		}
		p := NewProblem(status, codeForStatus(status), msg)
		if status == http.StatusBadRequest || status == http.StatusUnprocessableEntity {
			for _, e := range errs {
				if e == nil {
					continue
				}
				var d huma.ErrorDetailer
				if errors.As(e, &d) {
					p.Errors = append(p.Errors, d.ErrorDetail())
				} else {
					p.Errors = append(p.Errors, &huma.ErrorDetail{Message: e.Error()})
				}
			}
		}
		// Body parsing failures are client errors, with a clearer code.
		if status == http.StatusBadRequest && (msg == "unable to parse body" || len(p.Errors) > 0) {
			p.Code = "malformed_body"
			p.Detail = "the request body is not valid JSON for this operation"
		}
		return p
	}
	huma.NewErrorWithContext = func(ctx huma.Context, status int, msg string, errs ...error) huma.StatusError {
		if status >= 500 && ctx != nil {
			logFault(ctx.Context(), msg, errs)
		}
		p := huma.NewError(status, msg, errs...)
		if pp, ok := p.(*Problem); ok && ctx != nil {
			pp.Instance = RequestID(ctx.Context())
		}
		return p
	}
}

// ProblemTable maps a domain's sentinel errors to problems; each domain's http.go declares
// one, so the HTTP meaning of domain errors lives in one place per domain.
type ProblemTable []ProblemRule

// ProblemRule is one row of a ProblemTable.
type ProblemRule struct {
	Err    error
	Status int
	Code   string
	Detail string
}

// RetryAfterer is implemented by errors that say when to try again (rate limits).
type RetryAfterer interface{ RetryAfter() time.Duration }

// Map returns the problem for err, or err itself (which becomes a logged 500) when no row
// matches. A *Problem passes through unchanged.
func (t ProblemTable) Map(err error) error {
	if err == nil {
		return nil
	}
	var p *Problem
	if errors.As(err, &p) {
		return p
	}
	for _, r := range t {
		if errors.Is(err, r.Err) {
			detail := r.Detail
			if detail == "" {
				detail = r.Err.Error()
			}
			pr := NewProblem(r.Status, r.Code, "%s", detail)
			var ra RetryAfterer
			if errors.As(err, &ra) {
				pr.retryAfter = ra.RetryAfter()
			}
			return pr
		}
	}
	return err
}

// Rule is a ProblemTable row: err maps to status with code; detail "" uses err's text.
func Rule(err error, status int, code, detail string) ProblemRule {
	return ProblemRule{Err: err, Status: status, Code: code, Detail: detail}
}
