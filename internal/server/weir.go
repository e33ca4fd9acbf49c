package server

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/weir-dev/weir/internal/run"
)

// weirAPI is the prefix of weir's own endpoints (beyond the KFP surface).
const weirAPI = "/apis/weir/v1"

// weirState is what weir's own endpoints keep between requests.
type weirState struct {
	bus *broadcaster
	// keepAlive is the interval of the comment an event stream sends
	// when nothing happens, so that proxies keep it open.
	keepAlive time.Duration
	// logPoll is how often a followed log is read for new output.
	logPoll time.Duration
	// storePoll is how often a followed log checks the store for the
	// end of its attempt (events usually say it sooner).
	storePoll time.Duration

	closeOnce sync.Once
	closed    chan struct{} // closed by CloseStreams
}

// weirRoutes registers weir's own endpoints (beyond the KFP surface).
func (s *Server) weirRoutes() {
	s.cfg.weir = &weirState{
		bus:       newBroadcaster(256),
		keepAlive: 15 * time.Second,
		logPoll:   200 * time.Millisecond,
		storePoll: 2 * time.Second,
		closed:    make(chan struct{}),
	}
	m := s.mux
	m.HandleFunc("GET "+weirAPI+"/runs/{run}", s.runSummary)
	// ServeMux only allows a {name...} wildcard at the end, so the task
	// path and the "/logs" suffix are split by the handler.
	m.HandleFunc("GET "+weirAPI+"/runs/{run}/tasks/{rest...}", s.taskLogs)
	m.HandleFunc("GET "+weirAPI+"/artifacts/{id}", s.artifactInfo)
	m.HandleFunc("GET "+weirAPI+"/artifacts/{id}/content", s.artifactContent)
	m.HandleFunc("GET "+weirAPI+"/artifacts/{id}/preview", s.artifactPreview)
	m.HandleFunc("GET "+weirAPI+"/artifacts/{id}/lineage", s.artifactLineage)
	m.HandleFunc("GET "+weirAPI+"/events", s.events)
}

// CloseStreams ends every event stream and followed log, as a shutting
// down HTTP server needs (http.Server.RegisterOnShutdown): they never go
// idle on their own.
func (s *Server) CloseStreams() {
	w := s.cfg.weir
	w.closeOnce.Do(func() { close(w.closed) })
}

// errForbidden marks a request for something the server never serves.
var errForbidden = errors.New("permission denied")

// writeWeirError is writeError that also knows errForbidden.
func writeWeirError(w http.ResponseWriter, err error) {
	if errors.Is(err, errForbidden) {
		writeJSON(w, http.StatusForbidden, apiError{Code: 7, Message: err.Error(), Details: []any{}}) // PERMISSION_DENIED
		return
	}
	writeError(w, err)
}

// findAttempt locates a task of a run by path (or, failing that, by name,
// as `weir logs` does) and one of its attempts: number 0 is the last. When
// only the attempt is missing, the task is returned with the error.
func findAttempt(snap *run.Snapshot, task string, number int) (*run.TaskRun, *run.Attempt, error) {
	var tr *run.TaskRun
	for _, t := range snap.TaskRuns {
		if t.Path == task {
			tr = t
			break
		}
		if tr == nil && t.Name == task {
			tr = t
		}
	}
	if tr == nil {
		return nil, nil, fmt.Errorf("run %s has no task %q: %w", snap.Run.ID, task, errNotFound)
	}
	var chosen *run.Attempt
	for _, a := range snap.Attempts {
		if a.TaskRunID == tr.ID && (number == 0 || a.Number == number) {
			chosen = a
		}
	}
	if chosen == nil {
		if number != 0 {
			return tr, nil, fmt.Errorf("task %s has no attempt %d: %w", tr.Path, number, errNotFound)
		}
		return tr, nil, fmt.Errorf("task %s has no attempt: it has not run (%s): %w", tr.Path, tr.Phase, errNotFound)
	}
	return tr, chosen, nil
}

// queryBool reads a boolean query parameter ("true", "1"...).
func queryBool(r *http.Request, name string) (bool, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, badRequest("%s=%q: want true or false", name, v)
	}
	return b, nil
}

// streamHeaders prepares a response that is written as things happen.
func streamHeaders(w http.ResponseWriter, contentType string) {
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no") // nginx: do not buffer the stream
	h.Set("X-Content-Type-Options", "nosniff")
}

func flush(w http.ResponseWriter) {
	_ = http.NewResponseController(w).Flush()
}

// cutLogs splits "<task path>/logs".
func cutLogs(rest string) (string, bool) {
	task, ok := strings.CutSuffix(rest, "/logs")
	return task, ok && task != ""
}
