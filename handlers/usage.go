package handlers

// usageRoutes registers the Usage, dashboard and operations endpoints of
// API.md: CDR intake, listing and re-rating, the dashboards and the backup.
func (s *server) usageRoutes(api *prefixed) {}
