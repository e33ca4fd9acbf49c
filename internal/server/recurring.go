package server

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/weir-dev/weir/internal/engine"
	"github.com/weir-dev/weir/internal/run"
)

func (s *Server) recurringRoutes() {
	m := s.mux
	m.HandleFunc("POST "+api+"/recurringruns", s.createRecurringRun)
	m.HandleFunc("GET "+api+"/recurringruns", s.listRecurringRuns)
	m.HandleFunc("GET "+api+"/recurringruns/{id}", s.getRecurringRun)
	m.HandleFunc("DELETE "+api+"/recurringruns/{id}", s.deleteRecurringRun)
	m.HandleFunc("POST "+api+"/recurringruns/{idaction}", s.recurringRunAction)
}

type triggerJSON struct {
	CronSchedule *struct {
		StartTime *string `json:"start_time,omitempty"`
		EndTime   *string `json:"end_time,omitempty"`
		Cron      string  `json:"cron"`
	} `json:"cron_schedule,omitempty"`
	PeriodicSchedule *struct {
		StartTime      *string `json:"start_time,omitempty"`
		EndTime        *string `json:"end_time,omitempty"`
		IntervalSecond any     `json:"interval_second"`
	} `json:"periodic_schedule,omitempty"`
}

type recurringJSON struct {
	RecurringRunID           string          `json:"recurring_run_id"`
	DisplayName              string          `json:"display_name"`
	Description              string          `json:"description"`
	PipelineVersionReference *versionRef     `json:"pipeline_version_reference,omitempty"`
	PipelineSpec             json.RawMessage `json:"pipeline_spec,omitempty"`
	RuntimeConfig            runtimeConfig   `json:"runtime_config"`
	ServiceAccount           string          `json:"service_account"`
	MaxConcurrency           string          `json:"max_concurrency"`
	Trigger                  triggerJSON     `json:"trigger"`
	Mode                     string          `json:"mode"`
	CreatedAt                *string         `json:"created_at,omitempty"`
	UpdatedAt                *string         `json:"updated_at,omitempty"`
	Status                   string          `json:"status"`
	NoCatchup                bool            `json:"no_catchup"`
	Namespace                string          `json:"namespace,omitempty"`
	ExperimentID             string          `json:"experiment_id"`
}

func recurringOut(r *run.RecurringRun) recurringJSON {
	out := recurringJSON{RecurringRunID: r.ID, DisplayName: r.DisplayName, Description: r.Description,
		RuntimeConfig:  runtimeConfig{Parameters: orEmpty(r.Parameters), PipelineRoot: r.PipelineRoot},
		ServiceAccount: r.ServiceAccount, MaxConcurrency: strconv.Itoa(r.MaxConcurrency), Mode: "ENABLE", Status: "ENABLED",
		CreatedAt: stamp(r.CreatedAt), UpdatedAt: stamp(r.UpdatedAt), NoCatchup: r.NoCatchup, Namespace: r.Namespace, ExperimentID: r.ExperimentID}
	if !r.Enabled {
		out.Mode, out.Status = "DISABLE", "DISABLED"
	}
	if r.PipelineVersionID != "" {
		out.PipelineVersionReference = &versionRef{PipelineID: r.PipelineID, PipelineVersionID: r.PipelineVersionID}
	} else {
		out.PipelineSpec = specJSON(r.Spec)
	}
	if r.Cron != "" {
		out.Trigger.CronSchedule = &struct {
			StartTime *string `json:"start_time,omitempty"`
			EndTime   *string `json:"end_time,omitempty"`
			Cron      string  `json:"cron"`
		}{stamp(r.StartAt), stamp(r.EndAt), r.Cron}
	} else {
		out.Trigger.PeriodicSchedule = &struct {
			StartTime      *string `json:"start_time,omitempty"`
			EndTime        *string `json:"end_time,omitempty"`
			IntervalSecond any     `json:"interval_second"`
		}{stamp(r.StartAt), stamp(r.EndAt), strconv.FormatInt(int64(r.Interval/time.Second), 10)}
	}
	return out
}

func parseTime(field string, s *string) (time.Time, error) {
	if s == nil || *s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, *s)
	if err != nil {
		return time.Time{}, badRequest("%s %q: want an RFC 3339 time", field, *s)
	}
	return t, nil
}

func (s *Server) createRecurringRun(w http.ResponseWriter, r *http.Request) {
	var in struct {
		runIn
		MaxConcurrency any         `json:"max_concurrency"`
		Trigger        triggerJSON `json:"trigger"`
		Mode           string      `json:"mode"`
		UpdatedAt      string      `json:"updated_at"`
		Status         string      `json:"status"`
		NoCatchup      bool        `json:"no_catchup"`
		Namespace      string      `json:"namespace"`
	}
	if err := decodeBody(r, &in); err != nil {
		writeError(w, err)
		return
	}
	ctx := r.Context()
	now := time.Now().UTC()
	rr := &run.RecurringRun{ID: newID(), DisplayName: in.DisplayName, Description: in.Description, ServiceAccount: in.ServiceAccount,
		NoCatchup: in.NoCatchup, Namespace: in.Namespace, Enabled: !strings.EqualFold(in.Mode, "DISABLE"), CreatedAt: now, UpdatedAt: now, MaxConcurrency: 1}
	if err := checkName("recurring run", rr.DisplayName); err != nil {
		writeError(w, err)
		return
	}
	if in.MaxConcurrency != nil {
		n, err := strconv.Atoi(strings.Trim(string(mustMarshal(in.MaxConcurrency)), `"`))
		if err != nil || n < 1 || n > 10 {
			writeError(w, badRequest("max_concurrency %v: want an integer from 1 to 10", in.MaxConcurrency))
			return
		}
		rr.MaxConcurrency = n
	}
	var err error
	switch tr := in.Trigger; {
	case tr.CronSchedule != nil:
		rr.Cron = tr.CronSchedule.Cron
		if rr.StartAt, err = parseTime("trigger.cron_schedule.start_time", tr.CronSchedule.StartTime); err == nil {
			rr.EndAt, err = parseTime("trigger.cron_schedule.end_time", tr.CronSchedule.EndTime)
		}
	case tr.PeriodicSchedule != nil:
		secs, perr := strconv.ParseInt(strings.Trim(string(mustMarshal(tr.PeriodicSchedule.IntervalSecond)), `"`), 10, 64)
		if perr != nil {
			err = badRequest("trigger.periodic_schedule.interval_second %v: want an integer", tr.PeriodicSchedule.IntervalSecond)
			break
		}
		rr.Interval = time.Duration(secs) * time.Second
		if rr.StartAt, err = parseTime("trigger.periodic_schedule.start_time", tr.PeriodicSchedule.StartTime); err == nil {
			rr.EndAt, err = parseTime("trigger.periodic_schedule.end_time", tr.PeriodicSchedule.EndTime)
		}
	default:
		err = badRequest("trigger: want cron_schedule or periodic_schedule")
	}
	if err == nil {
		if _, serr := engine.ParseSchedule(rr); serr != nil {
			err = badRequest("trigger: %v", serr)
		}
	}
	if err != nil {
		writeError(w, err)
		return
	}
	// The pipeline, parameters and root are checked now, as for a run.
	src, err := s.pipelineSource(r, "a recurring run", in.PipelineSpec, in.PipelineVersionReference, in.PipelineVersionID)
	if err != nil {
		writeError(w, err)
		return
	}
	sub := engine.Submission{Spec: src.spec, SpecFile: src.file}
	rr.PipelineID, rr.PipelineVersionID = src.pipelineID, src.versionID
	if in.RuntimeConfig != nil {
		sub.Params, sub.PipelineRoot = in.RuntimeConfig.Parameters, in.RuntimeConfig.PipelineRoot
	}
	if sub.PipelineRoot, err = s.pipelineRoot(sub.PipelineRoot); err != nil {
		writeError(w, err)
		return
	}
	if _, _, _, err := engine.Prepare(sub); err != nil {
		writeError(w, invalidInput(err))
		return
	}
	rr.Spec, rr.Parameters, rr.PipelineRoot = sub.Spec, sub.Params, sub.PipelineRoot
	if rr.ExperimentID = in.ExperimentID; rr.ExperimentID == "" {
		if rr.ExperimentID, err = s.defaultExperiment(r); err != nil {
			writeError(w, err)
			return
		}
	} else if _, err := s.store.GetExperiment(ctx, rr.ExperimentID); err != nil {
		writeError(w, err)
		return
	}
	if err := s.store.CreateRecurringRun(ctx, rr); err != nil {
		writeError(w, err)
		return
	}
	s.svc.Wake()
	writeJSON(w, http.StatusOK, recurringOut(rr))
}

func mustMarshal(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}

func (s *Server) listRecurringRuns(w http.ResponseWriter, r *http.Request) {
	serveList(w, r, "recurringRuns", nil, nil, s.store.ListRecurringRuns, recurringOut)
}

func (s *Server) getRecurringRun(w http.ResponseWriter, r *http.Request) {
	rr, err := s.store.GetRecurringRun(r.Context(), r.PathValue("id"))
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, recurringOut(rr))
}

func (s *Server) deleteRecurringRun(w http.ResponseWriter, r *http.Request) {
	if err := s.store.DeleteRecurringRun(r.Context(), r.PathValue("id")); err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{})
}

// recurringRunAction serves POST /recurringruns/{id}:enable and :disable.
func (s *Server) recurringRunAction(w http.ResponseWriter, r *http.Request) {
	id, action, _ := strings.Cut(r.PathValue("idaction"), ":")
	var err error
	switch action {
	case "enable":
		err = s.store.SetRecurringEnabled(r.Context(), id, true)
	case "disable":
		err = s.store.SetRecurringEnabled(r.Context(), id, false)
	default:
		err = badRequest("unknown recurring run action %q (want :enable or :disable)", action)
	}
	if err != nil {
		writeError(w, err)
		return
	}
	s.svc.Wake()
	writeJSON(w, http.StatusOK, map[string]any{})
}
