package plans

import "time"

// SetClock makes s read time from now (tests of the limits cache and the month boundary).
func SetClock(s *Service, now func() time.Time) { s.now = now }

// LimitsTTL is how long limits stay cached.
const LimitsTTL = limitsTTL
