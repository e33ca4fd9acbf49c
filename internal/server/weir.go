package server

// weirRoutes registers weir's own endpoints (beyond the KFP surface).
func (s *Server) weirRoutes() {}
