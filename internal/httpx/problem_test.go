package httpx

import (
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/danielgtaylor/huma/v2"
)

var errSample = errors.New("sample failure")

type limited struct{ after time.Duration }

func (l limited) Error() string             { return "slow down" }
func (l limited) Is(target error) bool      { return target == errSample }
func (l limited) RetryAfter() time.Duration { return l.after }

func TestProblemTableMaps(t *testing.T) {
	table := ProblemTable{Rule(errSample, http.StatusConflict, "sample_conflict", "")}
	cases := []struct {
		name   string
		err    error
		status int
		code   string
	}{
		{"direct", errSample, 409, "sample_conflict"},
		{"wrapped", fmt.Errorf("ctx: %w", errSample), 409, "sample_conflict"},
		{"problem passes through", NewProblem(418, "teapot", "short and stout"), 418, "teapot"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var p *Problem
			if !errors.As(table.Map(tc.err), &p) || p.Status != tc.status || p.Code != tc.code {
				t.Fatalf("Map(%v) = %+v", tc.err, p)
			}
		})
	}
	other := errors.New("unmapped")
	if table.Map(other) != other {
		t.Fatal("an unmapped error must stay itself (it becomes a logged 500)")
	}
	if table.Map(nil) != nil {
		t.Fatal("nil must map to nil")
	}
	var p *Problem
	errors.As(table.Map(limited{after: 1500 * time.Millisecond}), &p)
	if got := p.GetHeaders().Get("Retry-After"); got != "2" {
		t.Fatalf("Retry-After = %q", got)
	}
}

func TestServerFaultsHideTheirCause(t *testing.T) {
	err := huma.NewError(http.StatusInternalServerError, "boom", errors.New(`pq: relation "secret_table" does not exist`))
	p, ok := err.(*Problem)
	if !ok || p.Code != "internal" || p.Detail != internalDetail || len(p.Errors) != 0 {
		t.Fatalf("500 leaks its cause: %+v", err)
	}
	v := huma.NewError(http.StatusUnprocessableEntity, "validation failed", &huma.ErrorDetail{Message: "expected integer", Location: "body.limit"})
	if vp := v.(*Problem); vp.Code != "validation_failed" || len(vp.Errors) != 1 || vp.ContentType("application/json") != "application/problem+json" {
		t.Fatalf("validation problem: %+v", vp)
	}
}

func TestBearer(t *testing.T) {
	for h, want := range map[string]string{"Bearer abc": "abc", "bearer  abc ": "abc", "Basic abc": "", "Bearer": "", "": ""} {
		got, ok := bearer(h)
		if got != want || ok != (want != "") {
			t.Errorf("bearer(%q) = %q, %v", h, got, ok)
		}
	}
}
