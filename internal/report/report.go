// Package report describes a run: the summary object `weir run -o json`,
// `weir runs get -o json` and the server's GET /apis/weir/v1/runs/{run}
// print (docs/cli.md), and its rendering for people. It is pure: it reads
// a snapshot, never the store or the file system.
package report

import (
	"slices"
	"strconv"
	"strings"
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
		Parameters: r.Parameters, Root: r.PipelineRoot, Tasks: make([]Task, 0, len(s.TaskRuns)),
	}
	if !r.FinishedAt.IsZero() {
		t := r.FinishedAt
		sum.FinishedAt = &t
	}
	// Each artifact is described once, when an event first names it, and
	// the description is shared by the producer and every consumer.
	artIndex := make(map[string]int, len(s.Artifacts))
	for i, a := range s.Artifacts {
		artIndex[a.ID] = i
	}
	described := make([]Artifact, len(s.Artifacts))
	done := make([]bool, len(s.Artifacts))
	type ioKey struct {
		task string
		kind run.EventKind
	}
	io := map[ioKey]map[string][]Artifact{}
	for _, ev := range s.Events {
		i, ok := artIndex[ev.ArtifactID]
		if !ok {
			continue
		}
		if !done[i] {
			a := s.Artifacts[i]
			described[i] = Artifact{ID: a.ID, URI: a.URI, Path: launch.LocalPath(a.URI),
				Type: a.SchemaTitle, Metadata: orEmpty(a.Metadata), Size: a.Size}
			done[i] = true
		}
		k := ioKey{ev.TaskRunID, ev.Kind}
		if io[k] == nil {
			io[k] = map[string][]Artifact{}
		}
		io[k][ev.Name] = append(io[k][ev.Name], described[i])
	}
	attempts := make(map[string][]*run.Attempt, len(s.TaskRuns))
	for _, a := range s.Attempts {
		attempts[a.TaskRunID] = append(attempts[a.TaskRunID], a)
	}
	for _, t := range sortByPath(s.TaskRuns) {
		sum.Tasks = append(sum.Tasks, Task{
			Name: t.Path, Kind: t.Kind, State: t.Phase, Error: t.Error, DurationMS: Millis(t.StartedAt, t.FinishedAt), CachedFrom: t.CachedFrom,
			Inputs:  IO{Parameters: orEmpty(t.Inputs), Artifacts: orEmptyArts(io[ioKey{t.ID, run.EventInput}])},
			Outputs: IO{Parameters: orEmpty(t.Outputs), Artifacts: orEmptyArts(io[ioKey{t.ID, run.EventOutput}])},
		})
		ts := &sum.Tasks[len(sum.Tasks)-1]
		if as := attempts[t.ID]; len(as) > 0 {
			ts.Attempt = make([]Attempt, len(as))
			for i, a := range as {
				ts.Attempt[i] = Attempt{Number: a.Number, State: a.Phase, ExitCode: a.ExitCode, Error: a.Error,
					DurationMS: Millis(a.StartedAt, a.FinishedAt), Log: a.LogPath}
			}
			last := &ts.Attempt[len(as)-1]
			ts.ExitCode, ts.Log = last.ExitCode, last.Log
		}
		ts.Attempts = len(ts.Attempt)
	}
	return sum
}

// pathSeg is one segment of a task path, with its value as a number when
// it is one.
type pathSeg struct {
	s   string
	n   int
	num bool
}

// sortByPath returns the task runs in LessPath's order. It splits each
// path once, where LessPath splits both of its paths at every comparison,
// which for the thousands of tasks of a big loop was a third of the time
// of Summarize. The order is exactly what sort.SliceStable with LessPath
// gives, even for paths LessPath does not order consistently (2 < 10 as
// numbers, but "10" < "1a" and "1a" < "2" as text): slices.SortStableFunc
// runs the same algorithm as sort.SliceStable, and lessSegs gives
// LessPath's answers.
func sortByPath(trs []*run.TaskRun) []*run.TaskRun {
	// A task's key is where its segments lie in segs and where the task
	// lies in trs: the sort moves small values without pointers.
	type keyed struct{ from, to, i int32 }
	n := 0
	for _, t := range trs {
		n += strings.Count(t.Path, "/") + 1
	}
	segs := make([]pathSeg, 0, n)
	ks := make([]keyed, len(trs))
	for i, t := range trs {
		from := len(segs)
		rest := t.Path
		for {
			// The segments strings.Split(t.Path, "/") returns.
			p := rest
			j := strings.IndexByte(rest, '/')
			if j >= 0 {
				p, rest = rest[:j], rest[j+1:]
			}
			seg := pathSeg{s: p}
			if maybeInt(p) {
				n, err := strconv.Atoi(p)
				seg.n, seg.num = n, err == nil
			}
			segs = append(segs, seg)
			if j < 0 {
				break
			}
		}
		ks[i] = keyed{int32(from), int32(len(segs)), int32(i)}
	}
	slices.SortStableFunc(ks, func(a, b keyed) int {
		// The stable sort only ever asks whether a sorts before b.
		if lessSegs(segs[a.from:a.to], segs[b.from:b.to]) {
			return -1
		}
		return 0
	})
	out := make([]*run.TaskRun, len(ks))
	for i, k := range ks {
		out[i] = trs[k.i]
	}
	return out
}

// maybeInt reports whether s has the form strconv.Atoi accepts: an
// optional sign and decimal digits. Most segments are names, and Atoi's
// error for a name costs two allocations.
func maybeInt(s string) bool {
	if s != "" && (s[0] == '+' || s[0] == '-') {
		s = s[1:]
	}
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// lessSegs is LessPath on paths already split.
func lessSegs(a, b []pathSeg) bool {
	for i := 0; i < len(a) && i < len(b); i++ {
		x, y := a[i], b[i]
		if x.s == y.s {
			continue
		}
		if x.num && y.num {
			return x.n < y.n
		}
		return x.s < y.s
	}
	return len(a) < len(b)
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
