package server

import (
	_ "embed"
	"net/http"
)

// openapiDoc is the OpenAPI 3.0 document of every route the server
// registers (openapi_test.go keeps the two in step).
//
//go:embed openapi.yaml
var openapiDoc []byte

// openapiRoutes serves the document under both API prefixes.
func (s *Server) openapiRoutes() {
	m := s.mux
	m.HandleFunc("GET "+api+"/openapi.yaml", serveOpenAPI)
	m.HandleFunc("GET "+weirAPI+"/openapi.yaml", serveOpenAPI)
}

func serveOpenAPI(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/yaml")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(openapiDoc)
}
