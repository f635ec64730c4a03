// Package stripeapi builds the stripe-go API client both Stripe users share (payments for
// students' PaymentIntents, billing for tenants' subscriptions): one place decides timeouts,
// retries, logging and the base URL that points tests at stripe-mock.
package stripeapi

import (
	"net/http"
	"time"

	"github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/client"
)

// Timeout bounds one Stripe API call with its retries: some calls are made inside the caller's
// transaction.
const Timeout = 20 * time.Second

// New returns the Stripe API client for secretKey. apiURL "" is Stripe itself; anything else
// (http://127.0.0.1:12111) is stripe-mock or another stand-in. The client speaks
// stripe.APIVersion (2023-10-16), the version webhook endpoints must be pinned to.
func New(secretKey, apiURL string) *client.API {
	backend := func(typ stripe.SupportedBackend, url string) stripe.Backend {
		cfg := &stripe.BackendConfig{
			HTTPClient:        &http.Client{Timeout: Timeout},
			LeveledLogger:     &stripe.LeveledLogger{Level: stripe.LevelNull}, // errors are returned and logged by the caller
			MaxNetworkRetries: stripe.Int64(2),
		}
		if url != "" {
			cfg.URL = stripe.String(url)
		}
		return stripe.GetBackendWithConfig(typ, cfg)
	}
	return client.New(secretKey, &stripe.Backends{
		API:     backend(stripe.APIBackend, apiURL),
		Connect: backend(stripe.ConnectBackend, apiURL),
		Uploads: backend(stripe.UploadsBackend, apiURL),
	})
}
