package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"sort"
	"strings"
	"text/tabwriter"
	"time"
)

// result is what one benchmark measured. Weir[i] and Base[i] come from the
// same repetition.
type result struct {
	Name string
	// Skipped, when set, says why the benchmark did not run.
	Skipped string
	// Err is set when the benchmark failed.
	Err string
	// Steps is the number of steps overhead is divided by.
	Steps int
	// Baseline says in a few words what the baseline is.
	Baseline string
	// Weir holds the wall time of each timed weir run.
	Weir []time.Duration
	// Base holds the baseline time of each repetition.
	Base []time.Duration
	// Internal holds each weir run's own duration_ms.
	Internal []time.Duration
	// TaskSum holds the sum of each weir run's task duration_ms.
	TaskSum []time.Duration
	// Target is the per-step overhead the project aims at; 0 for none.
	Target time.Duration
	// TargetRatio is the weir / baseline ratio the project aims at; 0 for
	// none.
	TargetRatio float64
	// TargetWall is the weir wall time the project aims at; 0 for none.
	TargetWall time.Duration
	// Info holds further findings, printed below the table.
	Info []string
}

func (r *result) add(w *weirRun, base time.Duration) {
	r.Weir = append(r.Weir, w.Wall)
	r.Internal = append(r.Internal, w.Internal)
	r.TaskSum = append(r.TaskSum, w.TaskSum)
	r.Base = append(r.Base, base)
}

func (r *result) measured() bool { return r.Skipped == "" && r.Err == "" && len(r.Weir) > 0 }

// overheads returns, per repetition, (weir - baseline) / steps.
func (r *result) overheads() []time.Duration {
	out := make([]time.Duration, len(r.Weir))
	for i := range r.Weir {
		out[i] = (r.Weir[i] - r.Base[i]) / time.Duration(max(r.Steps, 1))
	}
	return out
}

// ratios returns, per repetition, weir / baseline.
func (r *result) ratios() []float64 {
	out := make([]float64, 0, len(r.Weir))
	for i := range r.Weir {
		if r.Base[i] > 0 {
			out = append(out, float64(r.Weir[i])/float64(r.Base[i]))
		}
	}
	return out
}

// target is one of a result's targets, judged on the medians.
type target struct {
	what   string // e.g. "overhead/step <= 5.00ms"
	median string // the median it is judged on
	met    bool
}

// targets returns the result's targets (none when it has no data).
func (r *result) targets() []target {
	if !r.measured() {
		return nil
	}
	var out []target
	if r.Target > 0 {
		m := median(r.overheads())
		out = append(out, target{"overhead/step <= " + ms(r.Target), ms(m), m <= r.Target})
	}
	if r.TargetRatio > 0 {
		m := median(r.ratios())
		out = append(out, target{fmt.Sprintf("ratio <= %.2fx", r.TargetRatio), fmt.Sprintf("%.2fx", m), m <= r.TargetRatio})
	}
	if r.TargetWall > 0 {
		m := median(r.Weir)
		out = append(out, target{"weir wall <= " + ms(r.TargetWall), ms(m), m <= r.TargetWall})
	}
	return out
}

// targetMet reports whether every target of the result is met.
func (r *result) targetMet() bool {
	for _, t := range r.targets() {
		if !t.met {
			return false
		}
	}
	return true
}

// median returns the median of xs (the mean of the middle two for an even
// count); 0 for none.
func median[T time.Duration | float64](xs []T) T {
	if len(xs) == 0 {
		return 0
	}
	s := append([]T(nil), xs...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// diffMedian returns the median over repetitions of a[i] - b[i].
func diffMedian(a, b []time.Duration) time.Duration {
	d := make([]time.Duration, 0, len(a))
	for i := range a {
		if i < len(b) {
			d = append(d, a[i]-b[i])
		}
	}
	return median(d)
}

// ms formats a duration in milliseconds.
func ms(d time.Duration) string {
	v := float64(d) / float64(time.Millisecond)
	switch a := math.Abs(v); {
	case a >= 100:
		return fmt.Sprintf("%.0fms", v)
	case a >= 10:
		return fmt.Sprintf("%.1fms", v)
	default:
		return fmt.Sprintf("%.2fms", v)
	}
}

func msValue(d time.Duration) float64 {
	return math.Round(float64(d)/float64(time.Microsecond)) / 1000
}

// printRep prints one repetition as it is measured.
func printRep(w io.Writer, label string, run *weirRun, baseLabel string, base time.Duration) {
	fmt.Fprintf(w, "   %-8s weir %9s (run %s, tasks %s, outside the run %s)   %s %s\n",
		label, ms(run.Wall), ms(run.Internal), ms(run.TaskSum), ms(run.Wall-run.Internal), baseLabel, ms(base))
}

// benchJSON is the machine-readable line printed last.
type benchJSON struct {
	CPUs       int         `json:"cpus"`
	Reps       int         `json:"reps"`
	TotalS     float64     `json:"total_s"`
	Benchmarks []benchLine `json:"benchmarks"`
}

type benchLine struct {
	Name              string   `json:"name"`
	Skipped           string   `json:"skipped,omitempty"`
	Error             string   `json:"error,omitempty"`
	Steps             int      `json:"steps,omitempty"`
	Runs              int      `json:"runs,omitempty"`
	Baseline          string   `json:"baseline,omitempty"`
	WeirMS            *float64 `json:"weir_ms,omitempty"`
	BaselineMS        *float64 `json:"baseline_ms,omitempty"`
	OverheadPerStepMS *float64 `json:"overhead_per_step_ms,omitempty"`
	Ratio             *float64 `json:"ratio,omitempty"`
	InternalMS        *float64 `json:"internal_ms,omitempty"`
	TaskSumMS         *float64 `json:"task_sum_ms,omitempty"`
	TargetPerStepMS   *float64 `json:"target_per_step_ms,omitempty"`
	TargetRatio       *float64 `json:"target_ratio,omitempty"`
	TargetWallMS      *float64 `json:"target_wall_ms,omitempty"`
	TargetMet         *bool    `json:"target_met,omitempty"`
}

func ptr[T any](v T) *T { return &v }

// report prints the summary table, the targets, the findings and the
// BENCH_JSON line.
func report(w io.Writer, b *bench, results []*result, total time.Duration) {
	fmt.Fprintln(w, "== summary (medians; overhead/step = median over repetitions of (weir - baseline) / steps; ratio = median of weir / baseline)")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "benchmark\tweir(median)\tbaseline(median)\toverhead/step\tratio\tweir run (duration_ms)\tbaseline is")
	for _, r := range results {
		switch {
		case r.Err != "":
			fmt.Fprintf(tw, "%s\tFAILED\t\t\t\t\t\n", r.Name)
		case r.Skipped != "":
			fmt.Fprintf(tw, "%s\tskipped\t\t\t\t\t\n", r.Name)
		case !r.measured():
			fmt.Fprintf(tw, "%s\tno data\t\t\t\t\t\n", r.Name)
		default:
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%.2fx\t%s\t%s\n", r.Name, ms(median(r.Weir)), ms(median(r.Base)),
				ms(median(r.overheads())), median(r.ratios()), ms(median(r.Internal)), r.Baseline)
		}
	}
	tw.Flush()

	fmt.Fprintln(w)
	for _, r := range results {
		for _, t := range r.targets() {
			verdict := "met"
			if !t.met {
				verdict = "NOT met"
			}
			fmt.Fprintf(w, "target %s: %s: %s (median %s)\n", r.Name, t.what, verdict, t.median)
		}
	}
	for _, r := range results {
		if r.Skipped != "" {
			fmt.Fprintf(w, "skipped %s: %s\n", r.Name, r.Skipped)
		}
		if r.Err != "" {
			fmt.Fprintf(w, "failed %s: %s\n", r.Name, firstLine(r.Err))
		}
		for _, line := range r.Info {
			fmt.Fprintf(w, "%s: %s\n", r.Name, line)
		}
	}
	fmt.Fprintf(w, "total bench time %s\n", total.Round(100*time.Millisecond))

	out := benchJSON{CPUs: b.cpus, Reps: b.reps, TotalS: math.Round(total.Seconds()*10) / 10}
	for _, r := range results {
		l := benchLine{Name: r.Name, Skipped: r.Skipped, Error: firstLine(r.Err)}
		if r.measured() {
			l.Steps, l.Runs, l.Baseline = r.Steps, len(r.Weir), r.Baseline
			l.WeirMS = ptr(msValue(median(r.Weir)))
			l.BaselineMS = ptr(msValue(median(r.Base)))
			l.OverheadPerStepMS = ptr(msValue(median(r.overheads())))
			l.Ratio = ptr(math.Round(median(r.ratios())*1000) / 1000)
			l.InternalMS = ptr(msValue(median(r.Internal)))
			l.TaskSumMS = ptr(msValue(median(r.TaskSum)))
			if r.Target > 0 {
				l.TargetPerStepMS = ptr(msValue(r.Target))
			}
			if r.TargetRatio > 0 {
				l.TargetRatio = ptr(r.TargetRatio)
			}
			if r.TargetWall > 0 {
				l.TargetWallMS = ptr(msValue(r.TargetWall))
			}
			if len(r.targets()) > 0 {
				l.TargetMet = ptr(r.targetMet())
			}
		}
		out.Benchmarks = append(out.Benchmarks, l)
	}
	data, err := json.Marshal(out)
	if err != nil {
		fmt.Fprintln(w, "bench: encoding BENCH_JSON:", err)
		return
	}
	fmt.Fprintf(w, "BENCH_JSON %s\n", data)
}

func firstLine(s string) string {
	first, _, _ := strings.Cut(s, "\n")
	return first
}
