package server

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/weir-dev/weir/internal/report"
	"github.com/weir-dev/weir/internal/run"
)

// runSummary serves the run summary of `weir runs get RUN -o json`
// (docs/cli.md), built by package report, and two lighter forms of it that
// the web interface reads:
//
//   - ?view=graph: what a run's graph is drawn from (runGraph);
//   - ?task=PATH (repeatable): the summary of only these tasks, with their
//     times (taskDetails), for the interface's task panel.
func (s *Server) runSummary(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	view, tasks := q.Get("view"), q["task"]
	switch view {
	case "", "full", "graph":
	default:
		writeError(w, badRequest("view=%q: want full or graph", view))
		return
	}
	if view == "graph" && len(tasks) > 0 {
		writeError(w, badRequest("view=graph and task= do not go together"))
		return
	}
	id := r.PathValue("run")
	if view == "graph" {
		// An ended run's graph does not change until the run does (a
		// retry reopens it): a browser that has it already is told so
		// from the run's record alone, without reading its tasks.
		rec, err := s.store.GetRun(r.Context(), id)
		if err != nil {
			writeError(w, err)
			return
		}
		if tag := graphETag(rec); tag != "" && etagMatch(r.Header.Get("If-None-Match"), tag) {
			w.Header().Set("ETag", tag)
			w.Header().Set("Cache-Control", "no-cache")
			w.WriteHeader(http.StatusNotModified)
			return
		}
	}
	snap, err := s.store.Snapshot(r.Context(), id)
	if err != nil {
		writeError(w, err)
		return
	}
	switch {
	case view == "graph":
		if tag := graphETag(snap.Run); tag != "" {
			w.Header().Set("ETag", tag)
			w.Header().Set("Cache-Control", "no-cache")
		}
		writeJSON(w, http.StatusOK, graphOf(snap))
	case len(tasks) > 0:
		writeJSON(w, http.StatusOK, detailsOf(snap, tasks))
	default:
		writeJSON(w, http.StatusOK, report.Summarize(snap))
	}
}

// runGraph is the run summary as the web interface draws a run: the run's
// fields of the summary; each task's path, kind, state, number of attempts
// and error, and nothing else (a run of 20,000 tasks is about 1.6 MB rather
// than 7.7, and its inputs, outputs and artifacts cost nothing to gather);
// the run as the KFP API describes it, without its run_details; and the
// pipeline spec the run runs, so that one request is enough to draw it.
type runGraph struct {
	// report.Run gives the run's fields; its Tasks are shadowed below.
	report.Run
	Tasks []graphTask `json:"tasks"`
	// KFP is the run as GET /apis/v2beta1/runs/{id} describes it, without
	// run_details (task details) and pipeline_spec (see Spec).
	KFP  runJSON         `json:"run"`
	Spec json.RawMessage `json:"pipeline_spec,omitempty"`
}

// graphTask is a task of a runGraph.
type graphTask struct {
	Name     string    `json:"name"`
	Kind     run.Kind  `json:"kind"`
	State    run.Phase `json:"state"`
	Attempts int       `json:"attempts"`
	Error    string    `json:"error,omitempty"`
}

func graphOf(snap *run.Snapshot) *runGraph {
	attempts := make(map[string]int, len(snap.TaskRuns))
	for _, a := range snap.Attempts {
		attempts[a.TaskRunID]++
	}
	tasks := make([]graphTask, len(snap.TaskRuns))
	for i, t := range snap.TaskRuns {
		tasks[i] = graphTask{Name: t.Path, Kind: t.Kind, State: t.Phase, Attempts: attempts[t.ID], Error: t.Error}
	}
	sortByPath(tasks, func(t graphTask) string { return t.Name })
	g := &runGraph{
		Run:   *report.Summarize(&run.Snapshot{Run: snap.Run}),
		Tasks: tasks,
		KFP:   kfpRun(snap.Run),
		Spec:  specJSON(snap.Run.Spec),
	}
	return g
}

// kfpRun is the run as the KFP API describes it, without run_details and
// without its spec (a graph carries it once, as pipeline_spec).
func kfpRun(r *run.Run) runJSON {
	noSpec := *r
	noSpec.Spec = nil
	k := runOut(&noSpec, nil)
	k.PipelineSpec = nil
	return k
}

// graphEpoch changes the graph ETags of every run at each start of the
// server, so that a browser never keeps a graph made by another version.
var graphEpoch = time.Now().UnixNano()

// graphETag is the entity tag of an ended run's graph, or "" for a run
// that goes on (its tasks change without its record saying so). It covers
// everything of the run's record that the graph carries, so an archived,
// retried (a new end time) or otherwise changed run gets a new tag.
func graphETag(r *run.Run) string {
	if !r.Phase.Terminal() {
		return ""
	}
	head, err := json.Marshal(struct {
		Epoch int64       `json:"epoch"`
		Run   *report.Run `json:"run"`
		KFP   runJSON     `json:"kfp"`
	}{graphEpoch, report.Summarize(&run.Snapshot{Run: r}), kfpRun(r)}) // a run's spec never changes
	if err != nil {
		return ""
	}
	sum := sha256.Sum256(head)
	return `"g` + hex.EncodeToString(sum[:16]) + `"`
}

// etagMatch reports whether an If-None-Match header names tag.
func etagMatch(header, tag string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == tag || t == "*" {
			return true
		}
	}
	return false
}

// taskDetails is the run summary of some of its tasks (those named by
// ?task=PATH that exist; none is an error), each with its times.
type taskDetails struct {
	// report.Run gives the run's fields; its Tasks are shadowed below.
	report.Run
	Tasks []timedTask `json:"tasks"`
}

// timedTask is a task of the summary with the times that the summary
// leaves out.
type timedTask struct {
	report.Task
	CreatedAt  *string `json:"created_at,omitempty"`
	StartedAt  *string `json:"started_at,omitempty"`
	FinishedAt *string `json:"finished_at,omitempty"`
}

func detailsOf(snap *run.Snapshot, paths []string) *taskDetails {
	want := make(map[string]bool, len(paths))
	for _, p := range paths {
		want[p] = true
	}
	// Summarize a snapshot of only these tasks: the same report, for a
	// fraction of the work.
	sub := &run.Snapshot{Run: snap.Run, Artifacts: snap.Artifacts}
	byID := map[string]*run.TaskRun{}
	for _, t := range snap.TaskRuns {
		if want[t.Path] {
			sub.TaskRuns = append(sub.TaskRuns, t)
			byID[t.ID] = t
		}
	}
	for _, a := range snap.Attempts {
		if byID[a.TaskRunID] != nil {
			sub.Attempts = append(sub.Attempts, a)
		}
	}
	for _, ev := range snap.Events {
		if byID[ev.TaskRunID] != nil {
			sub.Events = append(sub.Events, ev)
		}
	}
	sum := report.Summarize(sub)
	byPath := make(map[string]*run.TaskRun, len(byID))
	for _, t := range byID {
		byPath[t.Path] = t
	}
	out := &taskDetails{Run: *sum, Tasks: make([]timedTask, 0, len(sum.Tasks))}
	for _, t := range sum.Tasks {
		tr := byPath[t.Name]
		out.Tasks = append(out.Tasks, timedTask{Task: t, CreatedAt: stamp(tr.CreatedAt), StartedAt: stamp(tr.StartedAt), FinishedAt: stamp(tr.FinishedAt)})
	}
	return out
}

// sortByPath sorts in report.LessPath's order (a parent before its
// children, siblings by name, loop iterations by number), splitting each
// path once rather than at every comparison.
func sortByPath[T any](xs []T, path func(T) string) {
	type seg struct {
		s   string
		n   int
		num bool
	}
	type keyed struct {
		segs []seg
		v    T
	}
	ks := make([]keyed, len(xs))
	for i, x := range xs {
		parts := strings.Split(path(x), "/")
		segs := make([]seg, len(parts))
		for j, p := range parts {
			n, err := strconv.Atoi(p)
			segs[j] = seg{s: p, n: n, num: err == nil}
		}
		ks[i] = keyed{segs, x}
	}
	slices.SortStableFunc(ks, func(a, b keyed) int {
		for i := 0; i < len(a.segs) && i < len(b.segs); i++ {
			x, y := a.segs[i], b.segs[i]
			if x.s == y.s {
				continue
			}
			if x.num && y.num {
				return cmp.Compare(x.n, y.n)
			}
			return strings.Compare(x.s, y.s)
		}
		return cmp.Compare(len(a.segs), len(b.segs))
	})
	for i := range ks {
		xs[i] = ks[i].v
	}
}
