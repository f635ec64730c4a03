package app_test

import (
	"strings"
	"testing"

	"github.com/paotui/paotui/internal/config"
)

// stripe.publishable_key is checked at start: it is sent to every student's browser, so a
// pasted secret key must be refused (without being echoed into the logs), and a production
// server that takes Stripe payments must have one, or card payments could never be confirmed.
func TestConfigPublishableKey(t *testing.T) {
	t.Parallel()
	const key = "stripe.publishable_key"
	cases := []struct {
		name   string
		env    []string
		refuse bool
	}{
		{"unset in development", nil, false},
		{"test key", []string{"PAOTUI_STRIPE_PUBLISHABLE_KEY=pk_test_51abc"}, false},
		{"secret key pasted", []string{"PAOTUI_STRIPE_PUBLISHABLE_KEY=sk_test_51secret"}, true},
		{"not a Stripe key", []string{"PAOTUI_STRIPE_PUBLISHABLE_KEY=hello"}, true},
		{"development with a secret key only", []string{"PAOTUI_STRIPE_SECRET_KEY=sk_test_1"}, false},
		{"production with a secret key only", []string{"PAOTUI_ENV=production", "PAOTUI_STRIPE_SECRET_KEY=sk_live_1"}, true},
		{"production with both", []string{"PAOTUI_ENV=production", "PAOTUI_STRIPE_SECRET_KEY=sk_live_1", "PAOTUI_STRIPE_PUBLISHABLE_KEY=pk_live_1"}, false},
		{"production without Stripe", []string{"PAOTUI_ENV=production"}, false},
		{"modes differ", []string{"PAOTUI_STRIPE_SECRET_KEY=sk_live_1", "PAOTUI_STRIPE_PUBLISHABLE_KEY=pk_test_1"}, true},
		{"restricted key of the same mode", []string{"PAOTUI_STRIPE_SECRET_KEY=rk_test_1", "PAOTUI_STRIPE_PUBLISHABLE_KEY=pk_test_1"}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, err := config.Load("", tc.env)
			// Production refuses the development master key and SMS driver too: look only at
			// what is said about this key.
			refused := err != nil && strings.Contains(err.Error(), key)
			if refused != tc.refuse {
				t.Fatalf("refused = %v, want %v (%v)", refused, tc.refuse, err)
			}
			if err != nil && strings.Contains(err.Error(), "51secret") {
				t.Fatalf("the error repeats the pasted secret: %v", err)
			}
			if !tc.refuse && err == nil && len(tc.env) > 0 && strings.HasPrefix(tc.env[len(tc.env)-1], "PAOTUI_STRIPE_PUBLISHABLE_KEY=") {
				want := strings.TrimPrefix(tc.env[len(tc.env)-1], "PAOTUI_STRIPE_PUBLISHABLE_KEY=")
				if c.Stripe.PublishableKey != want {
					t.Fatalf("loaded %q, want %q", c.Stripe.PublishableKey, want)
				}
			}
		})
	}
}
