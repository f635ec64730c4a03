// Package pii owns personal data at rest: each tenant's Tink keysets (an AEAD keyset for
// phone, real name, student number, ID number and addresses, and a MAC keyset for the blind
// indexes that let phone login find a user by equality), the Cipher that seals and opens
// those fields, and the normalisation and masking of phones and names for display.
//
// The keysets live in the control plane (public.tenant_keys), wrapped by the process's
// master key, and never in the tenant schema: a dump or backup of one tenant's schema then
// carries only ciphertexts and blind indexes, and is useless without both the platform
// database and the master key. Keeping one keyset per tenant also means deleting a tenant's
// keys crypto-shreds whatever copies of its data remain.
package pii
