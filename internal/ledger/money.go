package ledger

import (
	"fmt"
	"math/bits"
)

// Money is an amount in minor units (分). Never a float.
type Money int64

// FullShare is 100% in basis points, the unit of a commission split.
const FullShare = 10000

// Split divides amount between the courier, who gets courierShareBP basis points of it, and
// the tenant, who gets the rest. The courier's share is rounded to the nearest 分 with exact
// halves going to the even 分 (banker's rounding), so over many orders neither side gains from
// rounding; the tenant's share is amount minus the courier's, so courier+tenant == amount
// always and no cent is lost. Both shares carry amount's sign (a negative amount splits a
// clawback the same way its payment was split), and 0 <= |courier| <= |amount|.
//
// courierShareBP outside [0, FullShare] is a programming error (the tenant's setting is
// validated when saved) and panics.
func Split(amount Money, courierShareBP int) (courier, tenant Money) {
	if courierShareBP < 0 || courierShareBP > FullShare {
		panic(fmt.Sprintf("ledger.Split: courier share %d bp outside [0, %d]", courierShareBP, FullShare))
	}
	// Work on the magnitude in 128 bits so that no amount overflows; uint64(-amount) is the
	// right magnitude even for math.MinInt64.
	neg := amount < 0
	mag := uint64(amount)
	if neg {
		mag = uint64(-amount)
	}
	hi, lo := bits.Mul64(mag, uint64(courierShareBP))
	q, r := bits.Div64(hi, lo, FullShare) // hi < FullShare, so this cannot panic
	if 2*r > FullShare || 2*r == FullShare && q%2 == 1 {
		q++
	}
	// q <= mag because courierShareBP <= FullShare, so it fits back into Money.
	courier = Money(q)
	if neg {
		courier = -courier
	}
	return courier, amount - courier
}
