// Package server serves weir over HTTP: the KFP v2beta1 REST surface that
// kfp.Client speaks, and weir's own endpoints. It is the only package that
// knows HTTP status codes.
package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/weir-dev/weir/internal/engine"
	"github.com/weir-dev/weir/internal/spec"
	"github.com/weir-dev/weir/internal/store"
)

// Config tunes a Server.
type Config struct {
	// PipelineRoot is where runs write artifacts unless they say otherwise.
	PipelineRoot string
	// MaxBodyBytes caps request bodies (uploads included).
	MaxBodyBytes int64
	Logger       *slog.Logger
	// AuthToken, when set, is required on every request as
	// "Authorization: Bearer <token>" (kfp.Client's existing_token).
	AuthToken string
	// ArtifactRoots are directories, besides PipelineRoot, whose recorded
	// artifacts may be downloaded and previewed (e.g. WEIR_HOME). An
	// artifact anywhere else is never served.
	ArtifactRoots []string

	// weir is the state of weir's own endpoints, set by New.
	weir *weirState
}

// Server handles the API.
type Server struct {
	store *store.Store
	svc   *engine.Service
	cfg   Config
	log   *slog.Logger
	mux   *http.ServeMux
	met   *metrics
}

// New returns a server over a store and the service that drives its runs.
func New(st *store.Store, svc *engine.Service, cfg Config) *Server {
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = 32 << 20
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Server{store: st, svc: svc, cfg: cfg, log: cfg.Logger, mux: http.NewServeMux(), met: newMetrics(st, svc)}
	s.routes()
	return s
}

const api = "/apis/v2beta1"

func (s *Server) routes() {
	m := s.mux
	m.HandleFunc("GET "+api+"/healthz", s.healthz)
	m.HandleFunc("GET /healthz", s.healthz)
	m.Handle("GET /metrics", s.met.handler())

	m.HandleFunc("POST "+api+"/pipelines/upload", s.uploadPipeline)
	m.HandleFunc("POST "+api+"/pipelines/upload_version", s.uploadPipelineVersion)
	m.HandleFunc("POST "+api+"/pipelines", s.createPipeline)
	m.HandleFunc("POST "+api+"/pipelines/create", s.createPipelineAndVersion)
	m.HandleFunc("GET "+api+"/pipelines", s.listPipelines)
	m.HandleFunc("GET "+api+"/pipelines/{id}", s.getPipeline)
	m.HandleFunc("DELETE "+api+"/pipelines/{id}", s.deletePipeline)
	m.HandleFunc("POST "+api+"/pipelines/{id}/versions", s.createPipelineVersion)
	// One pattern serves both /pipelines/names/{name} and
	// /pipelines/{id}/versions, which ServeMux cannot tell apart.
	m.HandleFunc("GET "+api+"/pipelines/{a}/{b}", func(w http.ResponseWriter, r *http.Request) {
		switch a, b := r.PathValue("a"), r.PathValue("b"); {
		case a == "names":
			s.getPipelineByName(w, r, b)
		case b == "versions":
			s.listPipelineVersions(w, r, a)
		default:
			writeError(w, fmt.Errorf("no such endpoint %s: %w", r.URL.Path, errNotFound))
		}
	})
	m.HandleFunc("GET "+api+"/pipelines/{id}/versions/{vid}", s.getPipelineVersion)
	m.HandleFunc("DELETE "+api+"/pipelines/{id}/versions/{vid}", s.deletePipelineVersion)

	m.HandleFunc("POST "+api+"/experiments", s.createExperiment)
	m.HandleFunc("GET "+api+"/experiments", s.listExperiments)
	m.HandleFunc("GET "+api+"/experiments/{id}", s.getExperiment)
	m.HandleFunc("DELETE "+api+"/experiments/{id}", s.deleteExperiment)
	m.HandleFunc("POST "+api+"/experiments/{idaction}", s.experimentAction)

	m.HandleFunc("POST "+api+"/runs", s.createRun)
	m.HandleFunc("GET "+api+"/runs", s.listRuns)
	m.HandleFunc("GET "+api+"/runs/{id}", s.getRun)
	m.HandleFunc("DELETE "+api+"/runs/{id}", s.deleteRun)
	m.HandleFunc("POST "+api+"/runs/{idaction}", s.runAction)

	s.recurringRoutes()
	s.weirRoutes()
	s.openapiRoutes()
	s.uiRoutes()
}

// openRequest reports whether r may be served without the bearer token.
func openRequest(r *http.Request) bool {
	if r.Method == http.MethodGet {
		switch r.URL.Path {
		case "/healthz", api + "/openapi.yaml", weirAPI + "/openapi.yaml":
			return true
		}
	}
	return uiRequest(r)
}

// ServeHTTP serves the API with body limits and access logging.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	// GET /healthz stays open for liveness probes, the web interface's
	// files for browsers (uiRequest) and the OpenAPI document (it describes
	// the API and holds no data; the interface links to it); everything
	// else, including the API's own healthz, needs the token.
	if !s.authorized(r) && !openRequest(r) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="weir"`)
		writeJSON(w, http.StatusUnauthorized, apiError{Code: 16, Message: "missing or wrong bearer token", Details: []any{}})
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes)
	rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
	_, pattern := s.mux.Handler(r)
	if pattern == "" {
		// Errors are google.rpc.Status bodies, also for unknown endpoints.
		pattern = "unmatched"
		writeError(rec, fmt.Errorf("no such endpoint: %s %s: %w", r.Method, r.URL.Path, errNotFound))
	} else {
		s.mux.ServeHTTP(rec, r)
	}
	took := time.Since(start)
	s.met.request(pattern, rec.status, took)
	s.log.Debug("request", slog.String("method", r.Method), slog.String("path", r.URL.Path),
		slog.Int("status", rec.status), slog.Duration("took", took))
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Flush() {
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"multi_user": false, "pipeline_store": "database"})
}

// apiError is a google.rpc.Status, the error body KFP clients expect.
type apiError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
	Details []any  `json:"details"`
}

// Errors that map to a client error.
var (
	errBadRequest = errors.New("invalid request")
	errNotFound   = errors.New("not found")
)

func badRequest(format string, args ...any) error {
	return fmt.Errorf("%w: %s", errBadRequest, fmt.Sprintf(format, args...))
}

// writeError maps an error to an HTTP status and a google.rpc code.
func writeError(w http.ResponseWriter, err error) {
	status, code := http.StatusInternalServerError, 13 // INTERNAL
	var mbe *http.MaxBytesError
	var fe *store.FieldError
	switch {
	case errors.As(err, &mbe):
		status, code = http.StatusRequestEntityTooLarge, 8 // RESOURCE_EXHAUSTED
	case errors.Is(err, errBadRequest), errors.As(err, &fe), errors.Is(err, store.ErrInvalidFilter), isValidation(err):
		status, code = http.StatusBadRequest, 3 // INVALID_ARGUMENT
	case errors.Is(err, store.ErrNotFound), errors.Is(err, errNotFound):
		status, code = http.StatusNotFound, 5 // NOT_FOUND
	case errors.Is(err, store.ErrConflict):
		status, code = http.StatusConflict, 6 // ALREADY_EXISTS
	}
	msg := strings.TrimPrefix(err.Error(), errBadRequest.Error()+": ")
	writeJSON(w, status, apiError{Code: code, Message: msg, Details: []any{}})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	_ = enc.Encode(v)
}

// decodeBody reads a JSON request body, rejecting unknown fields as KFP's
// gateway does.
func decodeBody(r *http.Request, v any) error {
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return err
		}
		return badRequest("request body: %v", err)
	}
	return nil
}

// Shutdown-safe serve helper.
func (s *Server) Serve(ctx context.Context, srv *http.Server) error {
	srv.Handler = s
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		return srv.Shutdown(sctx)
	}
}

// isValidation reports errors that describe bad input: an invalid pipeline
// or invalid parameters.
func isValidation(err error) bool {
	var ve *spec.ValidationError
	var pe *engine.InvalidParams
	return errors.As(err, &ve) || errors.As(err, &pe)
}
