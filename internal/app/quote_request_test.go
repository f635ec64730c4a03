package app_test

import (
	"encoding/json"
	"testing"

	"github.com/paotui/paotui/internal/orders"
)

func mustQuoteRequest(t *testing.T, body map[string]any) orders.QuoteRequest {
	t.Helper()
	raw, _ := json.Marshal(body)
	var q orders.QuoteRequest
	if err := json.Unmarshal(raw, &q); err != nil {
		t.Fatal(err)
	}
	return q
}
