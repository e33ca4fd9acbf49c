// Command bench measures what weir adds on top of the work a pipeline does.
//
// Every benchmark runs its baseline in the same invocation, interleaved with
// the weir runs, and reports medians and ratios; nothing here asserts a
// wall-clock speed. See README.md for what each benchmark measures.
//
// Required environment (see `make bench`):
//
//	WEIR_BIN         the weir binary under test
//	WEIR_E2E_PYTHON  a Python with kfp==2.17.3, used to compile the pipelines
//
// Optional:
//
//	WEIR_BENCH_PYENV_ROOT  reuse Python environments across bench invocations
//
// Usage:
//
//	go run ./test/bench [-reps N] [-only NAME,...] [-keep] [-pyenv-root DIR]
//
// The exit status is 0 whatever the figures are; it is 1 when weir fails a
// run or the bench cannot run at all.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"
)

// benchmark is one entry of the table below.
type benchmark struct {
	name string
	// run measures the benchmark. It returns a result with Skipped set
	// when the benchmark cannot apply here, and an error when a run
	// failed.
	run func(ctx context.Context, b *bench) (*result, error)
}

// benchmarks are run in this order. To add one, write a func returning a
// *result (see container.go and iris.go for the two kinds that exist) and
// list it here. The container benchmarks come before the iris ones, whose
// first run builds a Python environment: pip creates and deletes thousands
// of files, and on some filesystems (ext4 without a journal) creating files
// stays several times slower for a while after mass deletions, which only
// weir's runs (they create each step's directory and log) would pay.
var benchmarks = []benchmark{
	{"chain-100", func(ctx context.Context, b *bench) (*result, error) {
		return b.containerBench(ctx, containerCase{
			name: "chain-100", kind: "chain", steps: 100,
			parallelism: b.cpus, workers: 1,
			targetPerStep: 5 * time.Millisecond,
		})
	}},
	{"fanout-100", func(ctx context.Context, b *bench) (*result, error) {
		return b.containerBench(ctx, containerCase{
			name: "fanout-100", kind: "fanout", steps: 100,
			parallelism: b.cpus, workers: b.cpus,
			targetPerStep: 5 * time.Millisecond,
		})
	}},
	{"parallelfor-1000", func(ctx context.Context, b *bench) (*result, error) {
		return b.containerBench(ctx, containerCase{
			name: "parallelfor-1000", kind: "parallelfor", steps: 1000, loopParallelism: 2,
			parallelism: 2, workers: 2,
			targetRatio: 1.5,
		})
	}},
	{"iris-warm", func(ctx context.Context, b *bench) (*result, error) {
		return b.irisWarm(ctx)
	}},
	{"iris-cached", func(ctx context.Context, b *bench) (*result, error) {
		return b.irisCached(ctx)
	}},
	{"server-500-runs", func(ctx context.Context, b *bench) (*result, error) {
		return b.server500Runs(ctx)
	}},
	{"server-list-100k", func(ctx context.Context, b *bench) (*result, error) {
		return b.serverList100k(ctx)
	}},
	{"server-idle-rss", func(ctx context.Context, b *bench) (*result, error) {
		return b.serverIdleRSS(ctx)
	}},
}

// bench is the state shared by all benchmarks of one invocation.
type bench struct {
	weirBin   string // absolute path of the binary under test
	python    string // interpreter with kfp, compiles pipelines
	repo      string // the repository's top directory
	dir       string // everything the bench writes goes under here
	pyenvRoot string // WEIR_PYENV_ROOT of every weir run
	reps      int    // timed repetitions per benchmark
	cpus      int    // runtime.NumCPU()
	homes     int    // WEIR_HOME directories created so far
	irisYAML  string // examples/iris compiled by this invocation, once
}

func main() {
	os.Exit(realMain())
}

func realMain() int {
	reps := flag.Int("reps", 5, "timed repetitions per benchmark")
	only := flag.String("only", "", "comma-separated benchmark names to run (default: all)")
	keep := flag.Bool("keep", false, "keep the bench's temporary directory (its path is printed)")
	pyenvRoot := flag.String("pyenv-root", os.Getenv("WEIR_BENCH_PYENV_ROOT"),
		"Python environment cache shared by all runs (default: a fresh directory in the bench's temporary directory)")
	flag.Parse()
	if *reps < 1 {
		fmt.Fprintln(os.Stderr, "bench: -reps must be at least 1")
		return 2
	}
	selected, err := selectBenchmarks(*only)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		return 2
	}

	b := &bench{reps: *reps, cpus: runtime.NumCPU()}
	if b.weirBin, err = requiredExecutable("WEIR_BIN", "the weir binary (build it with `make build`)"); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		return 1
	}
	if b.python, err = requiredExecutable("WEIR_E2E_PYTHON", "a Python interpreter with kfp==2.17.3 (`make venv` builds .venv/bin/python)"); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		return 1
	}
	if b.repo, err = repoRoot(); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		return 1
	}
	if b.dir, err = os.MkdirTemp("", "weir-bench-"); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		return 1
	}
	if *keep {
		fmt.Fprintln(os.Stderr, "bench: keeping", b.dir)
	} else {
		defer os.RemoveAll(b.dir)
	}
	b.pyenvRoot = *pyenvRoot
	if b.pyenvRoot == "" {
		b.pyenvRoot = filepath.Join(b.dir, "pyenv")
	} else if b.pyenvRoot, err = filepath.Abs(b.pyenvRoot); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		return 1
	}
	for _, d := range []string{b.pyenvRoot, filepath.Join(b.dir, "tmp")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			return 1
		}
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	fmt.Printf("weir bench: %s, %d CPU(s), %d timed repetition(s) each, medians quoted\n", b.weirBin, b.cpus, b.reps)
	fmt.Printf("temporary directory %s, Python environments in %s\n\n", b.dir, b.pyenvRoot)
	start := time.Now()
	var results []*result
	failed := false
	for _, bm := range selected {
		fmt.Printf("== %s\n", bm.name)
		t0 := time.Now()
		r, err := bm.run(ctx, b)
		if r == nil {
			r = &result{Name: bm.name}
		}
		if err != nil {
			failed = true
			r.Err = err.Error()
			fmt.Printf("   FAILED: %v\n", err)
		} else if r.Skipped != "" {
			fmt.Printf("   skipped: %s\n", r.Skipped)
		}
		fmt.Printf("   (%s)\n\n", time.Since(t0).Round(100*time.Millisecond))
		results = append(results, r)
		if ctx.Err() != nil {
			fmt.Println("interrupted")
			failed = true
			break
		}
	}
	report(os.Stdout, b, results, time.Since(start))
	if failed {
		return 1
	}
	return 0
}

// selectBenchmarks returns the benchmarks named in a comma-separated list,
// or all of them for an empty list.
func selectBenchmarks(only string) ([]benchmark, error) {
	if strings.TrimSpace(only) == "" {
		return benchmarks, nil
	}
	want := map[string]bool{}
	for _, n := range strings.Split(only, ",") {
		if n = strings.TrimSpace(n); n != "" {
			want[n] = true
		}
	}
	var out []benchmark
	for _, bm := range benchmarks {
		if want[bm.name] {
			out = append(out, bm)
			delete(want, bm.name)
		}
	}
	if len(want) > 0 {
		var names, unknown []string
		for _, bm := range benchmarks {
			names = append(names, bm.name)
		}
		for n := range want {
			unknown = append(unknown, n)
		}
		return nil, fmt.Errorf("-only: unknown benchmark(s) %s (known: %s)", strings.Join(unknown, ", "), strings.Join(names, ", "))
	}
	return out, nil
}

// requiredExecutable reads an environment variable naming an executable
// file and returns its absolute path.
func requiredExecutable(name, what string) (string, error) {
	v := os.Getenv(name)
	if v == "" {
		return "", fmt.Errorf("%s is not set: it must name %s; run the bench with `make bench`", name, what)
	}
	abs, err := filepath.Abs(v)
	if err != nil {
		return "", fmt.Errorf("%s=%s: %v", name, v, err)
	}
	fi, err := os.Stat(abs)
	if err != nil {
		return "", fmt.Errorf("%s=%s: %v", name, v, err)
	}
	if fi.IsDir() || fi.Mode()&0o111 == 0 {
		return "", fmt.Errorf("%s=%s is not an executable file", name, v)
	}
	return abs, nil
}

// repoRoot finds the repository's top directory: the nearest directory at
// or above the working directory whose go.mod declares weir's module.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		data, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && strings.Contains(string(data), "module github.com/weir-dev/weir\n") {
			return dir, nil
		}
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return "", err
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("cannot find the weir repository (a go.mod for github.com/weir-dev/weir) at or above the working directory")
		}
		dir = parent
	}
}
