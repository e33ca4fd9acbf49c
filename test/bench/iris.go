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
)

// irisWarm times end-to-end runs of examples/iris once its Python
// environment exists. Its baseline is the sum of the tasks' own
// duration_ms in the same run, so overhead is what weir spends outside the
// steps: process start, store, validation, scheduling between tasks and
// the summary.
func (b *bench) irisWarm(ctx context.Context) (*result, error) {
	r := &result{Name: "iris-warm", Baseline: "sum of the tasks' duration_ms (same run)"}
	src := filepath.Join(b.repo, "examples", "iris", "pipeline.py")
	if _, err := os.Stat(src); errors.Is(err, os.ErrNotExist) {
		r.Skipped = "examples/iris/pipeline.py does not exist yet"
		return r, nil
	} else if err != nil {
		return r, err
	}
	file := filepath.Join(b.dir, "iris.yaml")
	if _, err := b.compile(ctx, src, file); err != nil {
		return r, fmt.Errorf("compiling examples/iris/pipeline.py: %w", err)
	}

	fmt.Printf("   warm-up run (builds the Python environment unless %s already has it) ...\n", b.pyenvRoot)
	w, err := b.runWeir(ctx, r.Name, irisWarmupTimeout, file, -1)
	if err != nil {
		return r, err
	}
	r.Steps = len(w.Summary.Tasks)
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
