package server

import (
	"net/http"
	"strings"
	"time"

	"github.com/weir-dev/weir/internal/run"
)

type experimentJSON struct {
	ExperimentID     string  `json:"experiment_id"`
	DisplayName      string  `json:"display_name"`
	Description      string  `json:"description"`
	CreatedAt        *string `json:"created_at,omitempty"`
	Namespace        string  `json:"namespace,omitempty"`
	StorageState     string  `json:"storage_state"`
	LastRunCreatedAt *string `json:"last_run_created_at,omitempty"`
}

func experimentOut(e *run.Experiment) experimentJSON {
	return experimentJSON{ExperimentID: e.ID, DisplayName: e.DisplayName, Description: e.Description,
		CreatedAt: stamp(e.CreatedAt), Namespace: e.Namespace, StorageState: e.StorageState, LastRunCreatedAt: stamp(e.LastRunCreatedAt)}
}

func (s *Server) createExperiment(w http.ResponseWriter, r *http.Request) {
	var in struct {
		ExperimentID     string `json:"experiment_id"`
		DisplayName      string `json:"display_name"`
		Description      string `json:"description"`
		CreatedAt        string `json:"created_at"`
		Namespace        string `json:"namespace"`
		StorageState     string `json:"storage_state"`
		LastRunCreatedAt string `json:"last_run_created_at"`
	}
	if err := decodeBody(r, &in); err != nil {
		writeError(w, err)
		return
	}
	if err := checkName("experiment", in.DisplayName); err != nil {
		writeError(w, err)
		return
	}
	e := &run.Experiment{ID: newID(), DisplayName: in.DisplayName, Description: in.Description, Namespace: in.Namespace,
		StorageState: run.StorageAvailable, CreatedAt: time.Now().UTC()}
	if err := s.store.CreateExperiment(r.Context(), e); err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, experimentOut(e))
}

func (s *Server) listExperiments(w http.ResponseWriter, r *http.Request) {
	serveList(w, r, "experiments", nil, []string{"namespace"}, s.store.ListExperiments, experimentOut)
}

func (s *Server) getExperiment(w http.ResponseWriter, r *http.Request) {
	e, err := s.store.GetExperiment(r.Context(), r.PathValue("id"))
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, experimentOut(e))
}

func (s *Server) deleteExperiment(w http.ResponseWriter, r *http.Request) {
	if err := s.store.DeleteExperiment(r.Context(), r.PathValue("id")); err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{})
}

// experimentAction serves POST /experiments/{id}:archive and :unarchive.
func (s *Server) experimentAction(w http.ResponseWriter, r *http.Request) {
	id, action, _ := strings.Cut(r.PathValue("idaction"), ":")
	var state string
	switch action {
	case "archive":
		state = run.StorageArchived
	case "unarchive":
		state = run.StorageAvailable
	default:
		writeError(w, badRequest("unknown experiment action %q (want :archive or :unarchive)", action))
		return
	}
	if err := s.store.SetExperimentStorage(r.Context(), id, state); err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{})
}
