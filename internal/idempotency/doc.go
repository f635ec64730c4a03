// Package idempotency owns stored replies to money-moving requests (Idempotency-Key): the
// tenant's idempotency_keys table and the short Redis lock that keeps two copies of one request
// from running at once. httpx decides when to use it; this package only stores.
package idempotency
