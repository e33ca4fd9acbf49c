package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"time"
)

const (
	// irisWarmupTimeout bounds the untimed first run, which may build the
	// Python environment (pip installs scikit-learn and kfp).
	irisWarmupTimeout = 15 * time.Minute
	// irisTimeout bounds each timed run.
	irisTimeout = 5 * time.Minute
	// irisCachedTarget is the wall time the project aims at for a fully
	// cached rerun of iris (reported, never asserted).
	irisCachedTarget = 200 * time.Millisecond
)

// irisWarm times end-to-end runs of examples/iris once its Python
// environment exists. Its baseline is the sum of the tasks' own
// duration_ms in the same run, so overhead is what weir spends outside the
// steps: process start, store, validation, scheduling between tasks and
// the summary.
func (b *bench) irisWarm(ctx context.Context) (*result, error) {
	r := &result{Name: "iris-warm", Baseline: "sum of the tasks' duration_ms (same run)"}
	file, err := b.irisPipeline(ctx)
	if err != nil {
		return r, err
	}
	if file == "" {
		r.Skipped = "examples/iris/pipeline.py does not exist yet"
		return r, nil
	}

	fmt.Printf("   warm-up run (builds the Python environment unless %s already has it) ...\n", b.pyenvRoot)
	w, err := b.runWeir(ctx, r.Name, irisWarmupTimeout, file, -1)
	if err != nil {
		return r, err
	}
	r.Steps = w.Steps
	if r.Steps == 0 {
		return r, &runFailure{"the iris run has no tasks"}
	}
	printRep(os.Stdout, "warm-up", w, "tasks", w.TaskSum)
	r.Info = append(r.Info, fmt.Sprintf("untimed warm-up run (builds the Python environment when it is not cached): %s", ms(w.Wall)))

	for i := 0; i < b.reps; i++ {
		w, err := b.runWeir(ctx, r.Name, irisTimeout, file, r.Steps)
		if err != nil {
			return r, err
		}
		r.add(w, w.TaskSum)
		printRep(os.Stdout, fmt.Sprintf("rep %d", i+1), w, "tasks", w.TaskSum)
	}

	// The fixed cost inside every step: the environment's interpreter
	// starting and importing the KFP executor, measured in this
	// invocation.
	if py, err := b.stepPython(); err != nil {
		r.Info = append(r.Info, "interpreter start not measured: "+err.Error())
	} else {
		var starts []time.Duration
		for i := 0; i < b.reps; i++ {
			d, err := pythonStart(ctx, py)
			if err != nil {
				r.Info = append(r.Info, "interpreter start not measured: "+err.Error())
				starts = nil
				break
			}
			starts = append(starts, d)
		}
		if len(starts) > 0 {
			s := median(starts)
			r.Info = append(r.Info, fmt.Sprintf("interpreter start + `import kfp.dsl.executor_main` in the step environment: %s median, x%d steps = %s (%.0f%% of the weir wall time)",
				ms(s), r.Steps, ms(s*time.Duration(r.Steps)), 100*float64(s*time.Duration(r.Steps))/float64(median(r.Weir))))
		}
	}
	r.Info = append(r.Info, fmt.Sprintf("median per step: task duration_ms %s; weir outside the tasks %s in total (outside the run: %s)",
		ms(median(r.TaskSum)/time.Duration(r.Steps)), ms(diffMedian(r.Weir, r.TaskSum)), ms(diffMedian(r.Weir, r.Internal))))
	return r, nil
}

// irisPipeline compiles examples/iris/pipeline.py with kfp, once per
// invocation, and returns the compiled file; "" when the example does not
// exist.
func (b *bench) irisPipeline(ctx context.Context) (string, error) {
	if b.irisYAML != "" {
		return b.irisYAML, nil
	}
	src := filepath.Join(b.repo, "examples", "iris", "pipeline.py")
	if _, err := os.Stat(src); errors.Is(err, os.ErrNotExist) {
		return "", nil
	} else if err != nil {
		return "", err
	}
	file := filepath.Join(b.dir, "iris.yaml")
	if _, err := b.compile(ctx, src, file); err != nil {
		return "", fmt.Errorf("compiling examples/iris/pipeline.py: %w", err)
	}
	b.irisYAML = file
	return file, nil
}

// irisCached times reruns of examples/iris that reuse every task from the
// cache. All runs share one WEIR_HOME: an untimed first run fills the cache
// (and builds the Python environment unless it is cached), then each
// repetition is one rerun, which must have every task cached, and the
// baseline, `weir runs list` on the same WEIR_HOME: a weir process start,
// the store opened and one query.
func (b *bench) irisCached(ctx context.Context) (*result, error) {
	r := &result{Name: "iris-cached", Baseline: "`weir runs list`, same WEIR_HOME", TargetWall: irisCachedTarget}
	file, err := b.irisPipeline(ctx)
	if err != nil {
		return r, err
	}
	if file == "" {
		r.Skipped = "examples/iris/pipeline.py does not exist yet"
		return r, nil
	}
	home, err := b.newHome(r.Name)
	if err != nil {
		return r, err
	}
	fmt.Printf("   one WEIR_HOME (%s); first run, untimed, fills the cache (and builds the Python environment unless %s already has it) ...\n", home, b.pyenvRoot)
	first, err := b.runWeirIn(ctx, home, irisWarmupTimeout, file, expect{steps: -1, state: "succeeded"})
	if err != nil {
		return r, err
	}
	r.Steps = first.Steps
	if r.Steps == 0 {
		return r, &runFailure{"the iris run has no tasks"}
	}
	printRep(os.Stdout, "first", first, "tasks", first.TaskSum)
	r.Info = append(r.Info, fmt.Sprintf("untimed first run (fills the cache; builds the Python environment when it is not cached): %s", ms(first.Wall)))

	latest := first.Summary.RunID // the newest run, which runs list must show
	rerun := func() (*weirRun, error) {
		w, err := b.runWeirIn(ctx, home, irisTimeout, file, expect{steps: r.Steps, state: "cached"})
		if err == nil {
			latest = w.Summary.RunID
		}
		return w, err
	}
	list := func() (time.Duration, error) {
		out, wall, err := b.weirCmd(ctx, home, irisTimeout, "runs", "list")
		if err != nil {
			return 0, err
		}
		if !bytes.Contains(out, []byte(latest)) {
			return 0, &runFailure{fmt.Sprintf("weir runs list (WEIR_HOME=%s) does not list run %s:\n%s", home, latest, indent(tail(string(out), 10)))}
		}
		return wall, nil
	}
	var starts []time.Duration // `weir --help`: process start alone, no store
	for i := 0; i < b.reps; i++ {
		var w *weirRun
		var base, start time.Duration
		var werr, berr error
		if i%2 == 0 {
			if w, werr = rerun(); werr == nil {
				base, berr = list()
			}
		} else {
			if base, berr = list(); berr == nil {
				w, werr = rerun()
			}
		}
		if werr != nil {
			return r, werr
		}
		if berr != nil {
			return r, fmt.Errorf("baseline: %w", berr)
		}
		if _, start, berr = b.weirCmd(ctx, home, irisTimeout, "--help"); berr != nil {
			return r, berr
		}
		starts = append(starts, start)
		r.add(w, base)
		printRep(os.Stdout, fmt.Sprintf("rep %d", i+1), w, "runs list", base)
	}
	r.Info = append(r.Info, fmt.Sprintf("every rerun had its %d tasks cached; medians: rerun %s, of which the run (duration_ms, from the run's creation to its end) %s and outside the run (process start, store open, reading and validating the spec, the summary, closing the store) %s",
		r.Steps, ms(median(r.Weir)), ms(median(r.Internal)), ms(diffMedian(r.Weir, r.Internal))))
	r.Info = append(r.Info, fmt.Sprintf("for comparison, medians: `weir --help` (process start, no store) %s; `weir runs list` (process start, store open, one query) %s",
		ms(median(starts)), ms(median(r.Base))))
	return r, nil
}

// stepPython returns the interpreter of the environment the iris steps ran
// in: the finished environment in the pyenv root whose manifest asks for
// scikit-learn.
func (b *bench) stepPython() (string, error) {
	markers, err := filepath.Glob(filepath.Join(b.pyenvRoot, "*", ".weir-complete"))
	if err != nil {
		return "", err
	}
	var found []string
	for _, m := range markers {
		data, err := os.ReadFile(m)
		if err == nil && bytes.Contains(data, []byte("scikit-learn")) {
			found = append(found, filepath.Join(filepath.Dir(m), "bin", "python"))
		}
	}
	switch len(found) {
	case 0:
		return "", fmt.Errorf("no finished environment with scikit-learn in %s", b.pyenvRoot)
	case 1:
		return found[0], nil
	}
	return "", fmt.Errorf("%d environments with scikit-learn in %s; cannot tell which one the steps used", len(found), b.pyenvRoot)
}

// pythonStart times `python -c "import kfp.dsl.executor_main"` with the
// variable kfp's step command sets.
func pythonStart(ctx context.Context, py string) (time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, py, "-c", "import kfp.dsl.executor_main")
	cmd.Env = append(os.Environ(), "_KFP_RUNTIME=true")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	if err := cmd.Run(); err != nil {
		return 0, fmt.Errorf("%s -c 'import kfp.dsl.executor_main': %v: %s", py, err, tail(out.String(), 3))
	}
	return time.Since(start), nil
}
