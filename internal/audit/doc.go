// Package audit owns the audit trails: the tenant's audit_log (logins, role changes, reads of
// personal data) and the control plane's platform_audit_log. Entries never hold personal data
// in clear: actors and targets are ids.
package audit
