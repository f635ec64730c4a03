package tracking

import "time"

// MinInterval is the shortest time between two accepted pings of one courier
// (tracking.ping_interval). The couriers package reports it when a courier goes online, so the
// app paces its pings to what the server accepts instead of guessing.
func (s *Service) MinInterval() time.Duration { return s.minInterval }
