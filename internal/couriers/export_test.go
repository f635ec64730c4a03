package couriers

import "time"

// SetClock makes s read the time from now (period boundaries, decision and online times).
func (s *Service) SetClock(now func() time.Time) { s.now = now }
