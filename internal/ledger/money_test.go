package ledger_test

import (
	"math"
	"math/big"
	"testing"

	"github.com/paotui/paotui/internal/ledger"
)

func TestSplit(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name            string
		amount          ledger.Money
		bp              int
		courier, tenant ledger.Money
	}{
		{"even split of a round amount", 100, 5000, 50, 50},
		{"eighty percent", 1000, 8000, 800, 200},
		{"nothing to split", 0, 8000, 0, 0},
		{"courier gets nothing", 999, 0, 0, 999},
		{"courier gets everything", 999, ledger.FullShare, 999, 0},
		{"below half rounds down", 7, 3333, 2, 5},         // 2.3331
		{"above half rounds up", 10001, 7500, 7501, 2500}, // 7500.75
		{"half rounds to even, down", 5, 5000, 2, 3},      // 2.5
		{"half rounds to even, up", 3, 5000, 2, 1},        // 1.5
		{"one fen at half goes to the even zero", 1, 5000, 0, 1},
		{"negative amounts mirror positive ones", -5, 5000, -2, -3},
		{"negative above half", -10001, 7500, -7501, -2500},
		{"largest amount does not overflow", math.MaxInt64, 9999, 9222449699651090329, 922337203685478},
		{"smallest amount does not overflow", math.MinInt64, 5000, math.MinInt64 / 2, math.MinInt64 / 2},
		{"smallest amount, whole share", math.MinInt64, ledger.FullShare, math.MinInt64, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, tn := ledger.Split(tc.amount, tc.bp)
			if c != tc.courier || tn != tc.tenant {
				t.Fatalf("Split(%d, %d) = %d, %d; want %d, %d", tc.amount, tc.bp, c, tn, tc.courier, tc.tenant)
			}
			checkSplit(t, tc.amount, tc.bp)
		})
	}
}

func TestSplitPanicsOnBadShare(t *testing.T) {
	t.Parallel()
	for _, bp := range []int{-1, ledger.FullShare + 1} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("Split(100, %d) did not panic", bp)
				}
			}()
			ledger.Split(100, bp)
		}()
	}
}

func FuzzSplit(f *testing.F) {
	for _, seed := range []struct {
		amount int64
		bp     uint16
	}{{0, 0}, {1, 5000}, {3, 5000}, {-7, 3333}, {math.MaxInt64, 9999}, {math.MinInt64, 1}, {123456789, 8000}} {
		f.Add(seed.amount, seed.bp)
	}
	f.Fuzz(func(t *testing.T, amount int64, bp uint16) {
		checkSplit(t, ledger.Money(amount), int(bp)%(ledger.FullShare+1))
	})
}

// checkSplit asserts the properties Split promises for one input: nothing lost, shares within
// the amount and of its sign, the courier's share within half a fen of the exact share with
// ties to even, and a larger share never paying the courier less.
func checkSplit(t *testing.T, amount ledger.Money, bp int) {
	t.Helper()
	c, tn := ledger.Split(amount, bp)
	if c+tn != amount {
		t.Fatalf("Split(%d, %d) = %d + %d, lost %d", amount, bp, c, tn, amount-c-tn)
	}
	exact := new(big.Rat).SetFrac(new(big.Int).Mul(big.NewInt(int64(amount)), big.NewInt(int64(bp))), big.NewInt(ledger.FullShare))
	diff := new(big.Rat).Sub(new(big.Rat).SetInt64(int64(c)), exact)
	half := big.NewRat(1, 2)
	switch diff.Abs(diff).Cmp(half) {
	case 1:
		t.Fatalf("Split(%d, %d) courier %d is more than half a fen from %s", amount, bp, c, exact.FloatString(4))
	case 0:
		if c%2 != 0 {
			t.Fatalf("Split(%d, %d) courier %d: a tie must round to even", amount, bp, c)
		}
	}
	// Same sign as the amount, and no larger than it.
	if amount >= 0 && (c < 0 || tn < 0 || c > amount) || amount < 0 && (c > 0 || tn > 0 || c < amount) {
		t.Fatalf("Split(%d, %d) = %d, %d: a share outside [0, amount]", amount, bp, c, tn)
	}
	if bp < ledger.FullShare {
		next, _ := ledger.Split(amount, bp+1)
		if amount >= 0 && next < c || amount < 0 && next > c {
			t.Fatalf("Split(%d, %d+1) courier %d moved away from %d: not monotonic", amount, bp, next, c)
		}
	}
}
