// Package couriers owns courier vetting and availability: the application a student files
// (real name and student number, sealed with the tenant's pii.Cipher), the staff decisions on
// it (approve, reject, suspend, reinstate; each audited, approval granting the "courier"
// role), going online and offline (mirrored into a per-tenant Redis set that location pings
// check), the gate that orders and dispatch consult before a courier takes work
// (LockEligible, Candidates, Touch), and the courier's earnings view read from the ledger.
//
// Types that appear in HTTP bodies carry a Courier prefix (CourierProfile, CourierEarnings):
// huma names schemas by Go type name alone, and a second "Profile" elsewhere would panic at
// start-up.
package couriers
