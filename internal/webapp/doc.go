// Package webapp serves the built browser apps (web/dist, embedded by package web) on every
// path the API does not claim: the landing and signup app on the base host, the super-admin
// panel on the platform host, and on a tenant's hosts its student app (/), courier app
// (/courier/) and admin app (/admin/). Client-side routes fall back to their app's
// index.html, into which the tenant's name, colours and status are written, so the first paint
// is already branded and a suspended tenant's users land on its paused page.
package webapp
