package dispatch

import "time"

// SetClock replaces the service's clock, so tests can move past deadlines and alert delays.
func SetClock(s *Service, now func() time.Time) { s.now = now }
