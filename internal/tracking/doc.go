// Package tracking owns where couriers are: the position pings their app sends while online,
// the latest fix of every courier (a per-tenant Redis GEO set plus a hash of last fixes, read by
// the task hall, dispatch and the admin live map), the live position events published to Redis
// pub/sub, and the trails kept in PostgreSQL (courier_trail) for orders being carried.
//
// # The ping path
//
// [Service.Ping] validates the fix in Go and then makes exactly one Redis round trip: a Lua
// script that checks the courier is in the online set (kept by the couriers package), applies
// the rate limit and the speed check against the courier's last fix, and, when all pass, updates
// the GEO set and the last fix, publishes the position on the courier's and the tenant's map
// channels and appends the point to the tenant's trail buffer. Nothing touches PostgreSQL:
// pings are the busiest request of the product and must not queue behind the database.
//
// Two clocks are used on purpose. Fix times come from the device when it is within ±5 minutes
// of the API's clock (a phone knows when it took the fix; a ping can wait in a flaky network),
// otherwise from the API's clock. The rate limit runs on Redis's clock, the one clock every API
// replica shares.
//
// # Trails
//
// Points wait in a Redis list per tenant and a set of tenants with pending points.
// [Service.Flush] drains them in batches, each written by one INSERT ... SELECT FROM
// unnest(...) joined to orders, so a point is stored only against its courier's orders that are
// accepted or picked up when it is written, and nothing is stored when the tenant turned
// trails off. Batches are claimed, not popped: a claimed batch sits in a list of its own under
// a lease until its INSERT committed, so a failed write or a flusher that dies mid-batch loses
// nothing: the next flush writes the batch again, and the unique (order_id, at) index makes
// that second write add nothing. Run the flusher with [Service.RunFlusher] in the
// worker process, or as the periodic task [TaskFlush].
//
// # Redis layout
//
//	t:<tid>:couriers:online         set of online courier ids (owned by couriers; read here)
//	t:<tid>:geo                     GEO set of courier ids
//	t:<tid>:tracking:last           hash courier id -> "lng,lat,accuracy,fixTimeµs,receivedµs"
//	t:<tid>:tracking:trail          list of buffered points "courier,fixTimeµs,lng,lat,accuracy"
//	t:<tid>:tracking:trail:claimed  the batch being written
//	t:<tid>:tracking:trail:lease    the claiming flusher's token, with a TTL
//	tracking:trail:pending          set of tenant ids with buffered points
//
// Channels: "t:<tid>:courier:<userID>:pos" and "t:<tid>:map", message
// {"type":"position","data":{"courierId","lng","lat","accuracy","at"}}.
package tracking
