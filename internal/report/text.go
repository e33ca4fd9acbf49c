package report

import (
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/weir-dev/weir/internal/run"
	"github.com/weir-dev/weir/internal/spec"
)

// Tail returns the last lines of a log file; WriteSummary calls it for
// failed tasks. Rendering stays pure: the caller decides how logs are read.
type Tail func(path string, n int) []string

// WriteSummary prints a run for people: each task's state, duration and
// outputs, the run's end and, when tail is not nil, the log tail of failed
// tasks.
func WriteSummary(w io.Writer, s *Run, tail Tail) {
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
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", t.Name, t.State, FormatDuration(t.DurationMS), c)
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
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", t.Name, state, FormatDuration(t.DurationMS), outs[0])
		for _, o := range outs[1:] {
			fmt.Fprintf(tw, "\t\t\t%s\n", o)
		}
	}
	tw.Flush()
	if tail != nil {
		for _, t := range s.Tasks {
			if t.State != run.Failed || t.Log == "" {
				continue
			}
			fmt.Fprintf(w, "\n%s failed: %s\n", t.Name, t.Error)
			if lines := tail(t.Log, 20); len(lines) > 0 {
				fmt.Fprintf(w, "--- last lines of %s\n", t.Log)
				for _, l := range lines {
					fmt.Fprintln(w, "  "+l)
				}
			}
		}
	}
	fmt.Fprintf(w, "\nrun %s %s in %s\n", s.RunID, s.State, FormatDuration(s.DurationMS))
	if s.Error != "" && s.State != run.Succeeded {
		fmt.Fprintf(w, "error: %s\n", s.Error)
	}
}

// WriteDetails prints what `weir runs get RUN` shows: the run and its
// parameters, the summary table, and the attempts of retried or failed
// tasks.
func WriteDetails(w io.Writer, s *Run) {
	fmt.Fprintf(w, "run %s (%s), pipeline %s, %s\n", s.RunID, s.Name, s.Pipeline, s.State)
	if len(s.Parameters) > 0 {
		fmt.Fprintln(w, "parameters:")
		for _, k := range sortedKeys(s.Parameters) {
			fmt.Fprintf(w, "  %s = %v\n", k, formatParam(s.Parameters[k]))
		}
	}
	fmt.Fprintln(w)
	WriteSummary(w, s, nil)
	for _, t := range s.Tasks {
		if len(t.Attempt) <= 1 && t.State != run.Failed {
			continue
		}
		fmt.Fprintf(w, "\nattempts of %s:\n", t.Name)
		for _, a := range t.Attempt {
			code := "-"
			if a.ExitCode != nil {
				code = fmt.Sprint(*a.ExitCode)
			}
			fmt.Fprintf(w, "  #%d %s exit=%s %s %s\n", a.Number, a.State, code, FormatDuration(a.DurationMS), strings.ReplaceAll(a.Error, "\n", " "))
		}
	}
}

func formatParam(v any) string {
	if s, ok := v.(string); ok {
		return fmt.Sprintf("%q", s)
	}
	return fmt.Sprint(v)
}

// loopCounts describes each loop by its iterations' states.
func loopCounts(tasks []Task) map[string]string {
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

func formatOutputs(io IO) []string {
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

// FormatDuration renders milliseconds for people: 812ms, 3.4s, 2m5s.
func FormatDuration(ms int64) string {
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

// LessPath orders task paths as a tree: a parent before its children,
// siblings by name, loop iterations by number.
func LessPath(a, b string) bool {
	as, bs := strings.Split(a, "/"), strings.Split(b, "/")
	for i := 0; i < len(as) && i < len(bs); i++ {
		if as[i] == bs[i] {
			continue
		}
		na, ea := strconv.Atoi(as[i])
		nb, eb := strconv.Atoi(bs[i])
		if ea == nil && eb == nil {
			return na < nb
		}
		return as[i] < bs[i]
	}
	return len(as) < len(bs)
}

// insideIteration reports whether a path is a loop iteration or lies
// inside one.
func insideIteration(path string) bool {
	segs := strings.Split(path, "/")
	for i, s := range segs {
		if _, err := strconv.Atoi(s); err == nil && i > 0 {
			return true
		}
	}
	return false
}
