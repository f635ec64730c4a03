// Package pricing owns the price of an errand: the per-task-type rules a tenant configures
// (Rule, Surcharge), the quote a student sees before paying (Quote: a total with a
// line-by-line breakdown), and the signed quote token that lets create-order charge exactly
// that quote (Signer). It is pure: no I/O, no clock except the one a Signer is given.
//
// # The formula
//
// Every amount is an integer number of 分 (Money); floats appear only in the great-circle
// distance, which is rounded to whole metres before any money is computed.
//
//	gc        = haversine(pickup, dropoff), metres, Earth radius 6,371,008.8 m
//	billable  = round(gc × detour)                 half away from zero; detour 1.3 unless the
//	                                               task type sets 1.0..3.0 (paths are not straight)
//	extra     = max(0, billable − IncludedMeters)
//	steps     = ⌈extra / 100⌉                      every started 100 m counts
//	distance  = ⌊(steps × PerKmFee + 5) / 10⌋      PerKmFee/10 per step, rounded half up ONCE
//	size      = SizeFees[Size]                     "" costs 0, see Input.Size
//	time      = Minutes × PerMinuteFee
//	surcharge = Fee of every window that contains At on the tenant's wall clock
//	service   = base + distance + size + time + Σ surcharge
//	minimum   = max(0, MinFee − service)           tops the service part up to MinFee
//	tip       = Tip                                goes wholly to the courier
//	coupon    = −min(Coupon, service + minimum)    never makes the service part negative
//	total     = service + minimum + tip + coupon   = the sum of the lines, exactly
//
// Rounding happens in exactly two places: the billable distance to whole metres and the
// distance fee to whole 分. The fee is rounded after multiplying by the number of steps, not
// per step, so a per-km fee that is not a multiple of 10 loses nothing: at ¥1.25/km, one
// step is 12.5 → 13 分, two steps 25 分, three 37.5 → 38 分.
//
// A surcharge window is From ≤ t < To in whole minutes of local time (seconds are ignored, so
// 05:59:59 is inside 22:00–06:00); a window whose From is after its To wraps midnight.
// Overlapping windows all apply, each on its own line.
//
// Lines come in this order and only when non-zero, except base, which is always present:
// base, distance, size, time, surcharge:<code> (in configured order), minimum, tip, coupon.
//
// Worked example (default item_delivery: base 400, 1,000 m included, ¥1.50/km, medium 150;
// night surcharge 200): 1,234 m great-circle at 23:30, detour 1.3 → billable 1,604 m, extra
// 604 m, 7 steps, distance (7×150+5)/10 = 105; total 400+105+150+200 = 855 = ¥8.55.
//
// # Why a token
//
// Quote-order returns the breakdown and a token from Signer.Issue; create-order sends the
// token back with the order's inputs, and Signer.Verify checks, in order: the HMAC-SHA256
// signature (so the client cannot edit the total: ErrQuoteTampered), the tenant (a token
// from one campus is worthless at another: ErrQuoteTampered), the expiry (ErrQuoteExpired)
// and a SHA-256 digest of the inputs (a token for a 500 m small parcel cannot pay for a 5 km
// large one: ErrQuoteMismatch). The order is then charged Claims.Total rather than a fresh
// quote, so a rule edit or a surcharge window opening between quote and order never changes
// what the student pays; the short lifetime bounds how long an old price stays honoured.
// The order time is deliberately not part of the digest for the same reason.
//
// A token is not single-use by itself: Claims.ID is a random 128-bit id that the orders
// layer stores under a unique constraint to refuse a second order on one quote.
package pricing
