package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"time"

	"github.com/weir-dev/weir/internal/engine"
	"github.com/weir-dev/weir/internal/run"
	"github.com/weir-dev/weir/internal/store"
)

// KFP runtime states of weir's phases.
var stateOf = map[run.Phase]string{
	run.Pending: "PENDING", run.Running: "RUNNING", run.Succeeded: "SUCCEEDED", run.Failed: "FAILED",
	run.Skipped: "SKIPPED", run.Cached: "SKIPPED", run.Canceled: "CANCELED",
}

// phasesOf maps a KFP state in a filter to the stored phase.
func phasesOf(state string) (any, error) {
	for ph, st := range stateOf {
		if st == strings.ToUpper(state) && ph != run.Cached {
			return string(ph), nil
		}
	}
	if strings.EqualFold(state, "CANCELING") {
		return string(run.Running), nil
	}
	return nil, fmt.Errorf("unknown run state %q", state)
}

func runState(r *run.Run) string {
	if r.CancelRequested && !r.Phase.Terminal() {
		return "CANCELING"
	}
	return stateOf[r.Phase]
}

type runJSON struct {
	ExperimentID             string          `json:"experiment_id"`
	RunID                    string          `json:"run_id"`
	DisplayName              string          `json:"display_name"`
	StorageState             string          `json:"storage_state"`
	Description              string          `json:"description"`
	PipelineVersionID        string          `json:"pipeline_version_id,omitempty"`
	PipelineSpec             json.RawMessage `json:"pipeline_spec,omitempty"`
	PipelineVersionReference *versionRef     `json:"pipeline_version_reference,omitempty"`
	RuntimeConfig            runtimeConfig   `json:"runtime_config"`
	ServiceAccount           string          `json:"service_account"`
	CreatedAt                *string         `json:"created_at,omitempty"`
	ScheduledAt              *string         `json:"scheduled_at,omitempty"`
	FinishedAt               *string         `json:"finished_at,omitempty"`
	State                    string          `json:"state"`
	Error                    *apiError       `json:"error,omitempty"`
	RunDetails               *runDetails     `json:"run_details,omitempty"`
	RecurringRunID           string          `json:"recurring_run_id,omitempty"`
}

type versionRef struct {
	PipelineID        string `json:"pipeline_id"`
	PipelineVersionID string `json:"pipeline_version_id"`
}

type runtimeConfig struct {
	Parameters   map[string]any `json:"parameters"`
	PipelineRoot string         `json:"pipeline_root"`
}

type runDetails struct {
	PipelineContextID    string       `json:"pipeline_context_id"`
	PipelineRunContextID string       `json:"pipeline_run_context_id"`
	TaskDetails          []taskDetail `json:"task_details"`
}

type taskDetail struct {
	RunID        string      `json:"run_id"`
	TaskID       string      `json:"task_id"`
	DisplayName  string      `json:"display_name"`
	CreateTime   *string     `json:"create_time,omitempty"`
	StartTime    *string     `json:"start_time,omitempty"`
	EndTime      *string     `json:"end_time,omitempty"`
	State        string      `json:"state"`
	Error        *apiError   `json:"error,omitempty"`
	ParentTaskID string      `json:"parent_task_id,omitempty"`
	ChildTasks   []childTask `json:"child_tasks,omitempty"`
}

type childTask struct {
	TaskID string `json:"task_id"`
}

func runOut(r *run.Run, snap *run.Snapshot) runJSON {
	out := runJSON{
		ExperimentID: r.ExperimentID, RunID: r.ID, DisplayName: r.DisplayName, StorageState: r.StorageState,
		Description: r.Description, PipelineVersionID: r.PipelineVersionID,
		RuntimeConfig:  runtimeConfig{Parameters: orEmpty(r.Parameters), PipelineRoot: r.PipelineRoot},
		ServiceAccount: r.ServiceAccount, CreatedAt: stamp(r.CreatedAt), ScheduledAt: stamp(r.CreatedAt),
		FinishedAt: stamp(r.FinishedAt), State: runState(r), RecurringRunID: r.RecurringRunID,
	}
	if r.PipelineVersionID != "" {
		out.PipelineVersionReference = &versionRef{PipelineID: r.PipelineID, PipelineVersionID: r.PipelineVersionID}
	} else {
		out.PipelineSpec = specJSON(r.Spec)
	}
	if r.Error != "" && r.Phase != run.Succeeded {
		out.Error = &apiError{Code: 2, Message: r.Error, Details: []any{}}
	}
	if snap != nil {
		d := &runDetails{PipelineContextID: r.PipelineID, PipelineRunContextID: r.ID, TaskDetails: []taskDetail{}}
		children := map[string][]childTask{}
		for _, t := range snap.TaskRuns {
			if t.ParentID != "" {
				children[t.ParentID] = append(children[t.ParentID], childTask{TaskID: t.ID})
			}
		}
		for _, t := range snap.TaskRuns {
			td := taskDetail{RunID: r.ID, TaskID: t.ID, DisplayName: t.Path, CreateTime: stamp(t.CreatedAt),
				StartTime: stamp(t.StartedAt), EndTime: stamp(t.FinishedAt), State: stateOf[t.Phase],
				ParentTaskID: t.ParentID, ChildTasks: children[t.ID]}
			if t.Error != "" && (t.Phase == run.Failed || t.Phase == run.Canceled) {
				td.Error = &apiError{Code: 2, Message: t.Error, Details: []any{}}
			}
			d.TaskDetails = append(d.TaskDetails, td)
		}
		out.RunDetails = d
	}
	return out
}

func orEmpty(m map[string]any) map[string]any {
	if m == nil {
		return map[string]any{}
	}
	return m
}

// runIn is a run as kfp.Client submits it. Output-only fields are accepted
// (and ignored) because clients echo them back.
type runIn struct {
	ExperimentID             string          `json:"experiment_id"`
	RunID                    string          `json:"run_id"`
	DisplayName              string          `json:"display_name"`
	StorageState             string          `json:"storage_state"`
	Description              string          `json:"description"`
	PipelineVersionID        string          `json:"pipeline_version_id"`
	PipelineSpec             json.RawMessage `json:"pipeline_spec"`
	PipelineVersionReference *versionRef     `json:"pipeline_version_reference"`
	RuntimeConfig            *struct {
		Parameters   map[string]any `json:"parameters"`
		PipelineRoot string         `json:"pipeline_root"`
	} `json:"runtime_config"`
	ServiceAccount string          `json:"service_account"`
	CreatedAt      string          `json:"created_at"`
	ScheduledAt    string          `json:"scheduled_at"`
	FinishedAt     string          `json:"finished_at"`
	State          string          `json:"state"`
	Error          json.RawMessage `json:"error"`
	RunDetails     json.RawMessage `json:"run_details"`
	RecurringRunID string          `json:"recurring_run_id"`
	StateHistory   json.RawMessage `json:"state_history"`
	PluginsInput   json.RawMessage `json:"plugins_input"`
	PluginsOutput  json.RawMessage `json:"plugins_output"`
}

// defaultExperiment returns (creating it once) the experiment runs go to
// when they name none, as KFP does.
func (s *Server) defaultExperiment(r *http.Request) (string, error) {
	es, _, err := s.store.ListExperiments(r.Context(), store.ListOptions{PageSize: 1,
		Predicates: []store.Predicate{{Field: "display_name", Op: store.OpEq, Values: []any{"Default"}}}})
	if err != nil {
		return "", err
	}
	if len(es) > 0 {
		return es[0].ID, nil
	}
	e := &run.Experiment{ID: newID(), DisplayName: "Default", Description: "Runs that name no experiment", CreatedAt: time.Now().UTC()}
	if err := s.store.CreateExperiment(r.Context(), e); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return s.defaultExperiment(r)
		}
		return "", err
	}
	return e.ID, nil
}

// pipelineRoot resolves a run's pipeline root: a local directory inside
// the server's pipeline root or one of its artifact roots, so that no
// request makes the server write elsewhere.
func (s *Server) pipelineRoot(given string) (string, error) {
	if given == "" {
		return s.cfg.PipelineRoot, nil
	}
	p := strings.TrimPrefix(given, "file://")
	if strings.Contains(p, "://") || !filepath.IsAbs(p) {
		return "", badRequest("runtime_config.pipeline_root %q: this server writes artifacts to local absolute directories (or file:// URIs)", given)
	}
	p = filepath.Clean(p)
	for _, root := range append([]string{s.cfg.PipelineRoot}, s.cfg.ArtifactRoots...) {
		if rp, rr := realPath(p), realPath(filepath.Clean(root)); root != "" && (rp == rr || within(rp, rr)) {
			return p, nil
		}
	}
	return "", badRequest("runtime_config.pipeline_root %q: must lie inside the server's pipeline root %s", given, s.cfg.PipelineRoot)
}

// realPath resolves the symbolic links of the longest existing prefix of
// a path, so that a link cannot lead a root check astray.
func realPath(p string) string {
	rest := ""
	for cur := p; ; cur = filepath.Dir(cur) {
		if r, err := filepath.EvalSymlinks(cur); err == nil {
			return filepath.Join(r, rest)
		}
		if cur == filepath.Dir(cur) {
			return p
		}
		rest = filepath.Join(filepath.Base(cur), rest)
	}
}

func (s *Server) createRun(w http.ResponseWriter, r *http.Request) {
	var in runIn
	if err := decodeBody(r, &in); err != nil {
		writeError(w, err)
		return
	}
	ctx := r.Context()
	sub := engine.Submission{DisplayName: in.DisplayName}
	src, err := s.pipelineSource(r, "a run", in.PipelineSpec, in.PipelineVersionReference, in.PipelineVersionID)
	if err != nil {
		writeError(w, err)
		return
	}
	sub.Spec, sub.SpecFile = src.spec, src.file
	pipelineID, versionID := src.pipelineID, src.versionID
	if in.RuntimeConfig != nil {
		sub.Params = in.RuntimeConfig.Parameters
		sub.PipelineRoot = in.RuntimeConfig.PipelineRoot
	}
	if sub.PipelineRoot, err = s.pipelineRoot(sub.PipelineRoot); err != nil {
		writeError(w, err)
		return
	}
	expID := in.ExperimentID
	if expID == "" {
		if expID, err = s.defaultExperiment(r); err != nil {
			writeError(w, err)
			return
		}
	} else if _, err := s.store.GetExperiment(ctx, expID); err != nil {
		writeError(w, err)
		return
	}
	rr, pipe, _, err := engine.Prepare(sub)
	if err != nil {
		writeError(w, invalidInput(err))
		return
	}
	rr.ExperimentID, rr.PipelineID, rr.PipelineVersionID = expID, pipelineID, versionID
	rr.Description, rr.ServiceAccount, rr.StorageState = in.Description, in.ServiceAccount, run.StorageAvailable
	if in.DisplayName == "" {
		rr.DisplayName = rr.PipelineName + " " + rr.CreatedAt.Format("2006-01-02 15:04:05")
	}
	if err := s.svc.Submit(ctx, rr, pipe); err != nil {
		writeError(w, err)
		return
	}
	_ = s.store.TouchExperiment(ctx, expID, rr)
	writeJSON(w, http.StatusOK, runOut(rr, nil))
}

// source is the pipeline a run or recurring run executes.
type source struct {
	spec                  []byte
	file                  string // names the spec in errors
	pipelineID, versionID string // empty for an inline spec
}

// pipelineSource takes the spec from an inline pipeline_spec, or from a
// stored version (a reference, or a bare pipeline_version_id; a pipeline
// reference without a version means its latest).
func (s *Server) pipelineSource(r *http.Request, what string, inline json.RawMessage, ref *versionRef, versionID string) (source, error) {
	if len(inline) > 0 && string(inline) != "null" {
		return source{spec: inline, file: "pipeline_spec"}, nil
	}
	if ref == nil && versionID == "" {
		return source{}, badRequest("%s needs pipeline_spec or pipeline_version_reference", what)
	}
	if ref == nil {
		ref = &versionRef{PipelineVersionID: versionID}
	}
	var v *run.PipelineVersion
	var err error
	if ref.PipelineVersionID != "" {
		v, err = s.store.GetPipelineVersion(r.Context(), ref.PipelineVersionID)
	} else {
		v, err = s.store.LatestPipelineVersion(r.Context(), ref.PipelineID)
	}
	if err != nil {
		return source{}, err
	}
	return source{spec: v.Spec, file: v.Name, pipelineID: v.PipelineID, versionID: v.ID}, nil
}

// invalidInput marks validation and parameter errors as bad requests.
func invalidInput(err error) error {
	if isValidation(err) {
		return fmt.Errorf("%w: %v", errBadRequest, err)
	}
	return err
}

func (s *Server) getRun(w http.ResponseWriter, r *http.Request) {
	snap, err := s.store.Snapshot(r.Context(), r.PathValue("id"))
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, runOut(snap.Run, snap))
}

func (s *Server) listRuns(w http.ResponseWriter, r *http.Request) {
	serveList(w, r, "runs", map[string]func(string) (any, error){"state": phasesOf}, []string{"experiment_id"},
		s.store.ListRunsPage, func(x *run.Run) runJSON { return runOut(x, nil) })
}

func (s *Server) deleteRun(w http.ResponseWriter, r *http.Request) {
	if err := s.store.DeleteRun(r.Context(), r.PathValue("id")); err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{})
}

// runAction serves POST /runs/{id}:terminate, :retry, :archive and
// :unarchive.
func (s *Server) runAction(w http.ResponseWriter, r *http.Request) {
	id, action, _ := strings.Cut(r.PathValue("idaction"), ":")
	var err error
	switch action {
	case "terminate":
		err = s.svc.Terminate(r.Context(), id)
	case "retry":
		if err = engine.Retry(r.Context(), s.store, id); err == nil {
			s.svc.Wake()
		}
	case "archive":
		err = s.store.SetRunStorage(r.Context(), id, run.StorageArchived)
	case "unarchive":
		err = s.store.SetRunStorage(r.Context(), id, run.StorageAvailable)
	default:
		err = badRequest("unknown run action %q (want :terminate, :retry, :archive or :unarchive)", action)
	}
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{})
}
