package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/paotui/paotui/internal/app"
	"github.com/paotui/paotui/internal/app/apptest"
)

// `paotui openapi` prints, without any connection, the document the server serves: the web
// client is generated from it.
func TestOpenAPICommand(t *testing.T) {
	// Unreachable services: the command must not need them.
	t.Setenv("PAOTUI_DATABASE_URL", "postgres://postgres@127.0.0.1:1/none?connect_timeout=1")
	t.Setenv("PAOTUI_REDIS_URL", "redis://127.0.0.1:1/0")
	cmd := app.Command()
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetArgs([]string{"openapi"})
	if err := cmd.ExecuteContext(context.Background()); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		OpenAPI string `json:"openapi"`
		Paths   map[string]map[string]struct {
			OperationID string `json:"operationId"`
		} `json:"paths"`
	}
	if err := json.Unmarshal(out.Bytes(), &doc); err != nil {
		t.Fatalf("not JSON: %v", err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.1.") {
		t.Fatalf("openapi %q", doc.OpenAPI)
	}
	ops := map[string]bool{}
	for _, methods := range doc.Paths {
		for _, op := range methods {
			ops[op.OperationID] = true
		}
	}
	for _, id := range []string{"get-branding", "get-job-health", "update-branding"} {
		if !ops[id] {
			t.Errorf("operation %s missing from %d operations", id, len(ops))
		}
	}

	env := apptest.New(t)
	served := env.Do(env.PlatformHost(), "GET", "/api/openapi.json", "", nil)
	var printed, live any
	if err := json.Unmarshal(out.Bytes(), &printed); err != nil {
		t.Fatal(err)
	}
	served.JSON(t, &live)
	if !reflect.DeepEqual(printed, live) {
		t.Fatal("the printed document differs from the one the server serves")
	}
}
