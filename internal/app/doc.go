// Package app wires Paotui together: it builds every service from the configuration and runs
// the roles of the one binary (serve, worker, migrate, tenant and admin tasks). Wiring only:
// no business rules live here.
package app
