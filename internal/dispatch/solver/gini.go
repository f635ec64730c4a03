package solver

import "slices"

// Gini is the Gini coefficient of values: 0 when everyone has the same, approaching 1 when one
// holds everything. It is meant for non-negative amounts such as earnings and returns 0 for an
// empty input or a zero total.
func Gini(values []int64) float64 {
	if len(values) == 0 {
		return 0
	}
	s := make([]float64, len(values))
	for i, v := range values {
		s[i] = float64(v)
	}
	slices.Sort(s)
	// With x sorted ascending and ranks r = 1..n: G = 2·Σ r·x_r / (n·Σx) − (n+1)/n, which
	// equals the mean absolute difference over twice the mean without the O(n²) pairs.
	var sum, weighted float64
	for i, x := range s {
		sum += x
		weighted += float64(i+1) * x
	}
	if sum == 0 {
		return 0
	}
	n := float64(len(s))
	return 2*weighted/(n*sum) - (n+1)/n
}
