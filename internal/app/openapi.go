package app

import (
	"encoding/json"
	"log/slog"

	"github.com/spf13/cobra"

	"github.com/paotui/paotui/internal/config"
	"github.com/paotui/paotui/internal/httpx"
	"github.com/paotui/paotui/internal/platform/signup"
)

// OpenAPI returns the OpenAPI 3.1 document of every operation (what /api/openapi.json serves),
// indented for a readable diff of the committed copy the web client is generated from. It
// connects to nothing: operations are registered, never run. The built-in configuration stands
// in for the deployment's, so the document is the same wherever it is generated.
func OpenAPI() ([]byte, error) {
	cfg, err := config.Load("", nil)
	if err != nil {
		return nil, err
	}
	// signup registers its operations only with a service; a zero one is never called here.
	a := &App{Cfg: cfg, Log: slog.New(slog.DiscardHandler), Signup: &signup.Service{}}
	srv := httpx.New(httpx.Deps{Config: cfg, Log: a.Log})
	a.registerOperations(srv)
	doc, err := json.MarshalIndent(srv.API.OpenAPI(), "", "  ")
	if err != nil {
		return nil, err
	}
	return append(doc, '\n'), nil
}

func openapiCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "openapi",
		Short: "Print the OpenAPI 3.1 document (JSON) to stdout; needs no database",
		Long: "Print the OpenAPI 3.1 document of the HTTP API, as /api/openapi.json serves it, without " +
			"connecting to PostgreSQL or Redis. `make generate` writes it to web/packages/api/openapi.json, " +
			"which the web apps' typed client is generated from.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			doc, err := OpenAPI()
			if err != nil {
				return err
			}
			_, err = cmd.OutOrStdout().Write(doc)
			return err
		},
	}
}
