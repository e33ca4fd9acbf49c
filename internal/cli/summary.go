package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/weir-dev/weir/internal/engine"
	"github.com/weir-dev/weir/internal/launch"
	"github.com/weir-dev/weir/internal/run"
	"github.com/weir-dev/weir/internal/spec"
)

// runSummary is the machine-readable description of a run (docs/cli.md).
type runSummary struct {
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
	Tasks      []taskSummary  `json:"tasks"`
}

type taskSummary struct {
	Name       string     `json:"name"`
	Kind       run.Kind   `json:"kind"`
	State      run.Phase  `json:"state"`
	Attempts   int        `json:"attempts"`
	ExitCode   *int       `json:"exit_code,omitempty"`
	Error      string     `json:"error"`
	DurationMS int64      `json:"duration_ms"`
	Inputs     ioSummary  `json:"inputs"`
	Outputs    ioSummary  `json:"outputs"`
	Log        string     `json:"log,omitempty"`
	CachedFrom string     `json:"cached_from"`
	Attempt    []attemptS `json:"attempt_history,omitempty"`
}

type attemptS struct {
	Number     int       `json:"number"`
	State      run.Phase `json:"state"`
	ExitCode   *int      `json:"exit_code,omitempty"`
	Error      string    `json:"error,omitempty"`
	DurationMS int64     `json:"duration_ms"`
	Log        string    `json:"log"`
}

type ioSummary struct {
	Parameters map[string]any               `json:"parameters"`
	Artifacts  map[string][]artifactSummary `json:"artifacts"`
}

type artifactSummary struct {
	URI      string         `json:"uri"`
	Path     string         `json:"path"`
	Type     string         `json:"type"`
	Metadata map[string]any `json:"metadata"`
	Size     int64          `json:"size"`
}

func millis(a, b time.Time) int64 {
	if a.IsZero() || b.IsZero() {
		return 0
	}
	return b.Sub(a).Milliseconds()
}

func summarize(s *run.Snapshot) *runSummary {
	r := s.Run
	sum := &runSummary{
		RunID: r.ID, Pipeline: r.PipelineName, Name: r.DisplayName, State: r.Phase, Error: r.Error,
		CreatedAt: r.CreatedAt, DurationMS: millis(r.CreatedAt, r.FinishedAt),
		Parameters: r.Parameters, Root: r.PipelineRoot, Tasks: []taskSummary{},
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
	io := map[ioKey]map[string][]artifactSummary{}
	for _, ev := range s.Events {
		a := arts[ev.ArtifactID]
		if a == nil {
			continue
		}
		k := ioKey{ev.TaskRunID, ev.Kind}
		if io[k] == nil {
			io[k] = map[string][]artifactSummary{}
		}
		io[k][ev.Name] = append(io[k][ev.Name], artifactSummary{URI: a.URI, Path: launch.LocalPath(a.URI),
			Type: a.SchemaTitle, Metadata: orEmpty(a.Metadata), Size: a.Size})
	}
	attempts := map[string][]*run.Attempt{}
	for _, a := range s.Attempts {
		attempts[a.TaskRunID] = append(attempts[a.TaskRunID], a)
	}
	tasks := append([]*run.TaskRun{}, s.TaskRuns...)
	sort.SliceStable(tasks, func(i, j int) bool { return lessPath(tasks[i].Path, tasks[j].Path) })
	for _, t := range tasks {
		ts := taskSummary{
			Name: t.Path, Kind: t.Kind, State: t.Phase, Error: t.Error, DurationMS: millis(t.StartedAt, t.FinishedAt), CachedFrom: t.CachedFrom,
			Inputs:  ioSummary{Parameters: orEmpty(t.Inputs), Artifacts: orEmptyArts(io[ioKey{t.ID, run.EventInput}])},
			Outputs: ioSummary{Parameters: orEmpty(t.Outputs), Artifacts: orEmptyArts(io[ioKey{t.ID, run.EventOutput}])},
		}
		for _, a := range attempts[t.ID] {
			ts.Attempt = append(ts.Attempt, attemptS{Number: a.Number, State: a.Phase, ExitCode: a.ExitCode, Error: a.Error,
				DurationMS: millis(a.StartedAt, a.FinishedAt), Log: a.LogPath})
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

func orEmptyArts(m map[string][]artifactSummary) map[string][]artifactSummary {
	if m == nil {
		return map[string][]artifactSummary{}
	}
	return m
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// writeSummary prints a run for people: each task's state, duration and
// outputs, the log tail of failed tasks, and the run id.
func writeSummary(w io.Writer, s *runSummary, tails bool) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "TASK\tSTATE\tDURATION\tOUTPUTS")
	loops := loopCounts(s.Tasks)
	for _, t := range s.Tasks {
		// Iterations are summarised on their loop's row; only failures
		// inside them are listed.
		if insideIteration(t.Name) && t.State != run.Failed {
			continue
		}
		if c, ok := loops[t.Name]; ok {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", t.Name, t.State, formatDuration(t.DurationMS), c)
			continue
		}
		state := string(t.State)
		if t.Attempts > 1 {
			state = fmt.Sprintf("%s (%d attempts)", state, t.Attempts)
		}
		outs := formatOutputs(t.Outputs)
		if len(outs) == 0 {
			outs = []string{""}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", t.Name, state, formatDuration(t.DurationMS), outs[0])
		for _, o := range outs[1:] {
			fmt.Fprintf(tw, "\t\t\t%s\n", o)
		}
	}
	tw.Flush()
	if tails {
		for _, t := range s.Tasks {
			if t.State != run.Failed || t.Log == "" {
				continue
			}
			fmt.Fprintf(w, "\n%s failed: %s\n", t.Name, t.Error)
			if lines := engine.TailLines(t.Log, 20); len(lines) > 0 {
				fmt.Fprintf(w, "--- last lines of %s\n", t.Log)
				for _, l := range lines {
					fmt.Fprintln(w, "  "+l)
				}
			}
		}
	}
	fmt.Fprintf(w, "\nrun %s %s in %s\n", s.RunID, s.State, formatDuration(s.DurationMS))
	if s.Error != "" && s.State != run.Succeeded {
		fmt.Fprintf(w, "error: %s\n", s.Error)
	}
}

// loopCounts describes each loop by its iterations' states.
func loopCounts(tasks []taskSummary) map[string]string {
	counts := map[string]map[run.Phase]int{}
	for _, t := range tasks {
		if t.Kind == run.KindLoop {
			if counts[t.Name] == nil {
				counts[t.Name] = map[run.Phase]int{}
			}
		}
		if t.Kind == run.KindIteration {
			loop := t.Name[:strings.LastIndexByte(t.Name, '/')]
			if counts[loop] == nil {
				counts[loop] = map[run.Phase]int{}
			}
			counts[loop][t.State]++
		}
	}
	out := map[string]string{}
	for loop, c := range counts {
		total := 0
		var parts []string
		for _, ph := range run.Phases {
			if c[ph] > 0 {
				total += c[ph]
				parts = append(parts, fmt.Sprintf("%d %s", c[ph], ph))
			}
		}
		out[loop] = fmt.Sprintf("%d iterations: %s", total, strings.Join(parts, ", "))
		if total == 0 {
			out[loop] = "0 iterations"
		}
	}
	return out
}

func formatOutputs(io ioSummary) []string {
	var out []string
	for _, name := range sortedKeys(io.Parameters) {
		v := strings.ReplaceAll(spec.FormatValue(io.Parameters[name]), "\n", `\n`)
		if len(v) > 60 {
			v = v[:57] + "..."
		}
		out = append(out, fmt.Sprintf("%s=%s", name, v))
	}
	for _, name := range sortedKeys(io.Artifacts) {
		for _, a := range io.Artifacts[name] {
			out = append(out, fmt.Sprintf("%s: %s", name, a.Path))
		}
	}
	return out
}

func formatDuration(ms int64) string {
	d := time.Duration(ms) * time.Millisecond
	switch {
	case d < time.Second:
		return fmt.Sprintf("%dms", ms)
	case d < time.Minute:
		return fmt.Sprintf("%.1fs", d.Seconds())
	}
	return d.Round(time.Second).String()
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func sortStrings(s []string) { sort.Strings(s) }

// strip removes newlines so a message fits one line.
func strip(s string) string { return strings.ReplaceAll(s, "\n", " ") }
