// Package identity owns who someone is: tenant users (phone + SMS code, or password for
// staff), platform admins, the tokens that prove it (short-lived access JWTs bound to one
// tenant or to the platform, and hashed, rotating, revocable refresh tokens), the SMS codes
// and the Redis counters that rate-limit code sending and failed logins.
//
// What someone may do is not decided here: the caller grants roles (internal/authz) after
// identity says who the person is. Phones and names are stored only as ciphertexts sealed by
// internal/pii, with a blind index for the phone lookup at login, so a dump of a tenant schema
// holds no phone in clear. Every login, successful or not, is written to the audit log in
// the same transaction as the change it records.
//
// Nothing here speaks HTTP: errors are the sentinels in errors.go (and *RateLimitError),
// which the HTTP layer maps to problem responses.
package identity
