// Package places owns where and when a tenant delivers: the campus's named places (dorms,
// canteens, parcel stations, gates...) that students pick as pickup or drop-off, the delivery
// zones drawn on the admin map (GeoJSON polygons), the weekly service hours and closed dates,
// and CheckOrder, the rule that refuses an order whose pickup or drop-off lies outside every
// zone or that is placed outside service hours.
//
// Stores take the caller's transaction (opened by store.InTenant); LoadRange and LoadHours read
// what CheckOrder needs once per request, after which checks are pure and cheap. Service opens
// one transaction per admin change and records the change in the audit log inside it; http.go
// holds the public list-places and the admin settings operations of RegisterAdminHTTP.
package places
