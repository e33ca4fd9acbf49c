// Package report describes a run: the summary object `weir run -o json`,
// `weir runs get -o json` and the server's GET /apis/weir/v1/runs/{run}
// print (docs/cli.md), and its rendering for people. It is pure: it reads
// a snapshot, never the store or the file system.
package report

import (
	"sort"
	"time"

	"github.com/weir-dev/weir/internal/launch"
	"github.com/weir-dev/weir/internal/run"
)

// Run is the machine-readable description of a run (docs/cli.md).
type Run struct {
	RunID      string         `json:"run_id"`
	Pipeline   string         `json:"pipeline"`
	Name       string         `json:"name"`
	State      run.Phase      `json:"state"`
	Error      string         `json:"error"`
	CreatedAt  time.Time      `json:"created_at"`
	FinishedAt *time.Time     `json:"finished_at,omitempty"`
	DurationMS int64          `json:"duration_ms"`
	Parameters map[string]any `json:"parameters"`
	Root       string         `json:"pipeline_root"`
	Tasks      []Task         `json:"tasks"`
}

// Task describes one task run.
type Task struct {
	Name       string    `json:"name"`
	Kind       run.Kind  `json:"kind"`
	State      run.Phase `json:"state"`
	Attempts   int       `json:"attempts"`
	ExitCode   *int      `json:"exit_code,omitempty"`
	Error      string    `json:"error"`
	DurationMS int64     `json:"duration_ms"`
	Inputs     IO        `json:"inputs"`
	Outputs    IO        `json:"outputs"`
	Log        string    `json:"log,omitempty"`
	CachedFrom string    `json:"cached_from"`
	Attempt    []Attempt `json:"attempt_history,omitempty"`
}

// Attempt describes one try at a task.
type Attempt struct {
	Number     int       `json:"number"`
	State      run.Phase `json:"state"`
	ExitCode   *int      `json:"exit_code,omitempty"`
	Error      string    `json:"error,omitempty"`
	DurationMS int64     `json:"duration_ms"`
	Log        string    `json:"log"`
}

// IO is a task's parameters and artifacts, on one side.
type IO struct {
	Parameters map[string]any        `json:"parameters"`
	Artifacts  map[string][]Artifact `json:"artifacts"`
}

// Artifact describes an artifact a task consumed or produced.
type Artifact struct {
	// ID names the artifact in /apis/weir/v1/artifacts/{id}.
	ID       string         `json:"artifact_id"`
	URI      string         `json:"uri"`
	Path     string         `json:"path"`
	Type     string         `json:"type"`
	Metadata map[string]any `json:"metadata"`
	Size     int64          `json:"size"`
}

// Millis is the time from a to b in milliseconds, 0 if either is unknown.
func Millis(a, b time.Time) int64 {
	if a.IsZero() || b.IsZero() {
		return 0
	}
	return b.Sub(a).Milliseconds()
}

// Summarize describes a run from its snapshot.
func Summarize(s *run.Snapshot) *Run {
	r := s.Run
	sum := &Run{
		RunID: r.ID, Pipeline: r.PipelineName, Name: r.DisplayName, State: r.Phase, Error: r.Error,
		CreatedAt: r.CreatedAt, DurationMS: Millis(r.CreatedAt, r.FinishedAt),
		Parameters: r.Parameters, Root: r.PipelineRoot, Tasks: []Task{},
	}
	if !r.FinishedAt.IsZero() {
		t := r.FinishedAt
		sum.FinishedAt = &t
	}
	arts := map[string]*run.Artifact{}
	for _, a := range s.Artifacts {
		arts[a.ID] = a
	}
	type ioKey struct {
		task string
		kind run.EventKind
	}
	io := map[ioKey]map[string][]Artifact{}
	for _, ev := range s.Events {
		a := arts[ev.ArtifactID]
		if a == nil {
			continue
		}
		k := ioKey{ev.TaskRunID, ev.Kind}
		if io[k] == nil {
			io[k] = map[string][]Artifact{}
		}
		io[k][ev.Name] = append(io[k][ev.Name], Artifact{ID: a.ID, URI: a.URI, Path: launch.LocalPath(a.URI),
			Type: a.SchemaTitle, Metadata: orEmpty(a.Metadata), Size: a.Size})
	}
	attempts := map[string][]*run.Attempt{}
	for _, a := range s.Attempts {
		attempts[a.TaskRunID] = append(attempts[a.TaskRunID], a)
	}
	tasks := append([]*run.TaskRun{}, s.TaskRuns...)
	sort.SliceStable(tasks, func(i, j int) bool { return LessPath(tasks[i].Path, tasks[j].Path) })
	for _, t := range tasks {
		ts := Task{
			Name: t.Path, Kind: t.Kind, State: t.Phase, Error: t.Error, DurationMS: Millis(t.StartedAt, t.FinishedAt), CachedFrom: t.CachedFrom,
			Inputs:  IO{Parameters: orEmpty(t.Inputs), Artifacts: orEmptyArts(io[ioKey{t.ID, run.EventInput}])},
			Outputs: IO{Parameters: orEmpty(t.Outputs), Artifacts: orEmptyArts(io[ioKey{t.ID, run.EventOutput}])},
		}
		for _, a := range attempts[t.ID] {
			ts.Attempt = append(ts.Attempt, Attempt{Number: a.Number, State: a.Phase, ExitCode: a.ExitCode, Error: a.Error,
				DurationMS: Millis(a.StartedAt, a.FinishedAt), Log: a.LogPath})
		}
		ts.Attempts = len(ts.Attempt)
		if n := len(ts.Attempt); n > 0 {
			ts.ExitCode, ts.Log = ts.Attempt[n-1].ExitCode, ts.Attempt[n-1].Log
		}
		sum.Tasks = append(sum.Tasks, ts)
	}
	return sum
}

func orEmpty(m map[string]any) map[string]any {
	if m == nil {
		return map[string]any{}
	}
	return m
}

func orEmptyArts(m map[string][]Artifact) map[string][]Artifact {
	if m == nil {
		return map[string][]Artifact{}
	}
	return m
}
