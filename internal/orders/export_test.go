package orders

// SetExportCap lowers the export cap of s, so that tests can reach it with a few orders.
func SetExportCap(s *Service, n int) { s.exportCap = n }
