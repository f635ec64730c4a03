package payments

import (
	"errors"
	"testing"

	"github.com/stripe/stripe-go/v76/webhook"
)

// Webhook bodies are untrusted until verified, and Stripe's own shapes vary once they are:
// whatever the bytes, verifyEvent must not panic; unsigned bytes are ErrBadSignature; signed
// ones are an event or ErrBadEvent.
func FuzzVerifyEvent(f *testing.F) {
	for _, seed := range []string{
		`{"id":"evt_1","object":"event","api_version":"2023-10-16","type":"payment_intent.succeeded",` +
			`"data":{"object":{"id":"pi_1","object":"payment_intent","metadata":{"tenant_id":"7","payment_id":"p"}}}}`,
		`{"id":"evt_2","object":"event","api_version":"2023-10-16","type":"charge.refund.updated",` +
			`"data":{"object":{"id":"re_1","object":"refund","payment_intent":{"id":"pi_1"},"metadata":{"tenant_id":7}}}}`,
		`{"id":"evt_3","api_version":"2023-10-16","type":"refund.updated","data":{"object":{"payment_intent":[1]}}}`,
		`{"id":"evt_4","api_version":"2023-10-16","data":null}`,
		`{"api_version":"2020-08-27"}`,
		`[]`, `null`, ``, `{"data":{"object":"x"}}`,
	} {
		f.Add([]byte(seed))
	}
	const secret = "whsec_fuzz"
	f.Fuzz(func(t *testing.T, payload []byte) {
		if _, err := verifyEvent(payload, "t=1700000000,v1=00", secret); !errors.Is(err, ErrBadSignature) {
			t.Fatalf("unsigned payload: err = %v, want ErrBadSignature", err)
		}
		signed := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: payload, Secret: secret})
		ev, err := verifyEvent(payload, signed.Header, secret)
		switch {
		case err != nil && !errors.Is(err, ErrBadEvent):
			t.Fatalf("signed payload: err = %v, want nil or ErrBadEvent", err)
		case err == nil && ev.id == "":
			t.Fatal("an accepted event without an id")
		case err == nil && ev.task != nil && (ev.task.EventID != ev.id || ev.objectID == ""):
			t.Fatalf("task %+v for event %+v", ev.task, ev)
		case ev.tenantID < 0:
			t.Fatalf("negative tenant %d", ev.tenantID)
		}
	})
}
