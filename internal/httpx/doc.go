// Package httpx owns the HTTP platform: the echo server and its middleware (request id, logs,
// metrics, Host -> tenant resolution and the tenant status gate), the huma API that generates
// the OpenAPI document, the access declaration every operation makes and its enforcement, and
// RFC 9457 problem responses. All echo-specific code stays in this package so that a later
// move to echo v5 touches nothing else.
package httpx
