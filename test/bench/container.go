package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// containerCase is a benchmark of trivial container steps: weir runs a
// pipeline compiled by pipelines.py, the baseline spawns the same command
// lines directly from Go.
type containerCase struct {
	name string
	// kind and steps are pipelines.py's KIND and N.
	kind  string
	steps int
	// loopParallelism, for kind "parallelfor", is pipelines.py's
	// PARALLELISM: the ParallelFor's parallelism argument.
	loopParallelism int
	// parallelism is passed to weir as --parallelism.
	parallelism int
	// workers is how many baseline processes run at once: 1 spawns them
	// one after the other (the right baseline for a chain), n keeps up to
	// n running (the right one for independent steps at --parallelism n).
	workers int
	// targetPerStep and targetRatio are the project's targets for the
	// median overhead per step and the median weir / baseline ratio; 0 for
	// none.
	targetPerStep time.Duration
	targetRatio   float64
}

// containerTimeout bounds one weir run of a container benchmark.
const containerTimeout = 3 * time.Minute

// containerBench compiles the case's pipeline, then runs one untimed warm-up
// of weir and of the baseline, then b.reps repetitions of both, alternating
// which goes first.
func (b *bench) containerBench(ctx context.Context, c containerCase) (*result, error) {
	r := &result{Name: c.name, Steps: c.steps, Target: c.targetPerStep, TargetRatio: c.targetRatio}
	if c.workers == 1 {
		r.Baseline = fmt.Sprintf("%d direct spawns, one at a time", c.steps)
	} else {
		r.Baseline = fmt.Sprintf("%d direct spawns, %d at a time", c.steps, c.workers)
	}
	file := filepath.Join(b.dir, c.name+".yaml")
	pyArgs := []string{filepath.Join(b.repo, "test", "bench", "pipelines.py"), c.kind, strconv.Itoa(c.steps), file}
	if c.loopParallelism > 0 {
		pyArgs = append(pyArgs, strconv.Itoa(c.loopParallelism))
	}
	out, err := b.compile(ctx, pyArgs...)
	if err != nil {
		return r, fmt.Errorf("compiling the pipeline: %w", err)
	}
	var compiled struct {
		Steps [][]string `json:"steps"`
	}
	if err := json.Unmarshal(out, &compiled); err != nil {
		return r, fmt.Errorf("pipelines.py printed %q: %w", tail(string(out), 3), err)
	}
	if len(compiled.Steps) != c.steps {
		return r, fmt.Errorf("pipelines.py printed %d command lines, want %d", len(compiled.Steps), c.steps)
	}
	for i, argv := range compiled.Steps {
		if len(argv) == 0 {
			return r, fmt.Errorf("step %d has an empty command line", i)
		}
		for _, a := range argv {
			if strings.Contains(a, "{{$") {
				return r, fmt.Errorf("step %d's command line %q holds a placeholder: the baseline could not run the same command", i, argv)
			}
		}
	}
	what := fmt.Sprintf("%d steps, each running %q", c.steps, compiled.Steps[0])
	if c.loopParallelism > 0 {
		what = fmt.Sprintf("a ParallelFor(parallelism=%d) over %d items, each iteration one step running %q (the item varies)",
			c.loopParallelism, c.steps, compiled.Steps[0])
	}
	fmt.Printf("   %s; weir --parallelism %d; baseline %s\n", what, c.parallelism, r.Baseline)

	workDir := filepath.Join(b.dir, "spawn", c.name)
	if err := os.MkdirAll(workDir, 0o755); err != nil {
		return r, err
	}
	weirOnce := func() (*weirRun, error) {
		return b.runWeir(ctx, c.name, containerTimeout, file, c.steps, "--parallelism", strconv.Itoa(c.parallelism))
	}
	baseOnce := func() (time.Duration, error) {
		return spawnAll(ctx, compiled.Steps, c.workers, workDir)
	}

	// Warm-up: page cache, the binary, the shell.
	w, err := weirOnce()
	if err != nil {
		return r, err
	}
	base, err := baseOnce()
	if err != nil {
		return r, fmt.Errorf("baseline: %w", err)
	}
	printRep(os.Stdout, "warm-up", w, "baseline", base)
	layout, err := attemptDirs(w)
	if err != nil {
		return r, err
	}

	var probes []time.Duration
	for i := 0; i < b.reps; i++ {
		var w *weirRun
		var base time.Duration
		var werr, berr error
		if i%2 == 0 {
			w, werr = weirOnce()
			if werr == nil {
				base, berr = baseOnce()
			}
		} else {
			base, berr = baseOnce()
			if berr == nil {
				w, werr = weirOnce()
			}
		}
		if werr != nil {
			return r, werr
		}
		if berr != nil {
			return r, fmt.Errorf("baseline: %w", berr)
		}
		r.add(w, base)
		printRep(os.Stdout, fmt.Sprintf("rep %d", i+1), w, "baseline", base)
		fsd, err := fsProbe(filepath.Join(workDir, fmt.Sprintf("fsprobe-%d", i)), layout)
		if err != nil {
			return r, fmt.Errorf("filesystem probe: %w", err)
		}
		probes = append(probes, fsd)
	}

	// Where weir's time goes, from the run summaries.
	n := time.Duration(c.steps)
	r.Info = append(r.Info,
		fmt.Sprintf("median per step: weir wall %s, baseline %s; task duration_ms %s; outside the run (process start, store open, validation, summary) %s in total",
			ms(median(r.Weir)/n), ms(median(r.Base)/n), ms(median(r.TaskSum)/n), ms(diffMedian(r.Weir, r.Internal))))
	r.Info = append(r.Info, fmt.Sprintf("filesystem probe: creating a step's work directory and log file the way weir laid them out in the warm-up run (e.g. %s and %s) costs %s per step here (median; x%d steps = %s, %.0f%% of the median weir wall time; weir itself reuses the work directories that steps leave empty)",
		strings.TrimSuffix(layout[0], ".log"), layout[0], ms(median(probes)/n), c.steps, ms(median(probes)), 100*float64(median(probes))/float64(median(r.Weir))))
	return r, nil
}

// attemptDirs returns, for every step of a run, its log file, relative to
// WEIR_HOME, with the run id replaced by "RUN": the layout fsProbe
// reproduces. The attempt's work directory is the log's path without
// ".log".
func attemptDirs(w *weirRun) ([]string, error) {
	var dirs []string
	for _, t := range w.Summary.Tasks {
		if !t.step() {
			continue
		}
		rel, err := filepath.Rel(w.Home, t.Log)
		if err != nil || t.Log == "" || strings.HasPrefix(rel, "..") || !strings.HasSuffix(rel, ".log") {
			return nil, fmt.Errorf("task %s: its log %q is not a .log file under WEIR_HOME %s", t.Name, t.Log, w.Home)
		}
		parts := strings.Split(rel, string(filepath.Separator))
		for i, p := range parts {
			if p == w.Summary.RunID {
				parts[i] = "RUN"
			}
		}
		dirs = append(dirs, filepath.Join(parts...))
	}
	if len(dirs) == 0 {
		return nil, fmt.Errorf("run %s has no step", w.Summary.RunID)
	}
	return dirs, nil
}

// fsProbe creates under root, for each relative log path, the work
// directory beside it and the empty log file (what weir creates for an
// attempt when it has no empty work directory to reuse, see attemptDirs),
// and returns the elapsed time. It leaves them there: they go
// with the bench's directory at the end. Deleting them here would slow the
// next weir runs on some filesystems (ext4 without a journal does not reuse
// an inode freed in the last few minutes, and every new file then scans
// past the freed ones).
func fsProbe(root string, dirs []string) (time.Duration, error) {
	start := time.Now()
	for _, rel := range dirs {
		logPath := filepath.Join(root, rel)
		if err := os.MkdirAll(strings.TrimSuffix(logPath, ".log"), 0o755); err != nil {
			return 0, err
		}
		f, err := os.OpenFile(logPath, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
		if err != nil {
			return 0, err
		}
		if err := f.Close(); err != nil {
			return 0, err
		}
	}
	return time.Since(start), nil
}

// spawnAll runs every argv directly (no shell added, stdin, stdout and
// stderr on /dev/null, working directory dir), keeping up to workers
// processes running, and returns the elapsed wall time. Command lines are
// started in order.
func spawnAll(ctx context.Context, argvs [][]string, workers int, dir string) (time.Duration, error) {
	workers = max(workers, 1)
	jobs := make(chan []string)
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
	)
	start := time.Now()
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for argv := range jobs {
				cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
				cmd.Dir = dir
				if err := cmd.Run(); err != nil {
					mu.Lock()
					if first == nil {
						first = fmt.Errorf("%q: %w", argv, err)
					}
					mu.Unlock()
				}
			}
		}()
	}
	for _, argv := range argvs {
		jobs <- argv
	}
	close(jobs)
	wg.Wait()
	elapsed := time.Since(start)
	if first != nil {
		return 0, first
	}
	return elapsed, ctx.Err()
}
