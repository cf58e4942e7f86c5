package http

import "net/http"

// TEMPORARY: replaced by the admin CRUD implementation.

func (s *Server) adminRoutes() []Route { return nil }

func (s *Server) handleTenantList(w http.ResponseWriter, r *http.Request, c *Call) error { return nil }
func (s *Server) handleTenantCreate(w http.ResponseWriter, r *http.Request, c *Call) error {
	return nil
}
func (s *Server) handleTenantGet(w http.ResponseWriter, r *http.Request, c *Call) error   { return nil }
func (s *Server) handleTenantPatch(w http.ResponseWriter, r *http.Request, c *Call) error { return nil }
func (s *Server) handleTenantDelete(w http.ResponseWriter, r *http.Request, c *Call) error {
	return nil
}
func (s *Server) handleSettingsGet(w http.ResponseWriter, r *http.Request, c *Call) error { return nil }
func (s *Server) handleSettingsPatch(w http.ResponseWriter, r *http.Request, c *Call) error {
	return nil
}
