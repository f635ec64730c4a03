package pricing

import "fmt"

// Money is an amount in minor units (分). Prices stay integers end to end so the quote, its
// token and the charge agree to the 分.
type Money int64 // minor units (分)

// String formats m in yuan for logs and support tools: "¥12.34", "-¥0.05".
func (m Money) String() string {
	sign := ""
	u := uint64(m)
	if m < 0 {
		sign = "-"
		u = -u // unsigned negation is exact even for math.MinInt64
	}
	return fmt.Sprintf("%s¥%d.%02d", sign, u/100, u%100)
}
