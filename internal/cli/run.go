package cli

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/weir-dev/weir/internal/engine"
	"github.com/weir-dev/weir/internal/executor/local"
	"github.com/weir-dev/weir/internal/pyenv"
	"github.com/weir-dev/weir/internal/run"
	"github.com/weir-dev/weir/internal/spec"
)

type runFlags struct {
	params       []string
	pipelineRoot string
	parallelism  int
	noCache      bool
	taskTimeout  time.Duration
	output       string
	verbose      bool
}

func newRunCmd(e *env) *cobra.Command {
	f := &runFlags{}
	c := &cobra.Command{
		Use:   "run FILE",
		Short: "Validate and run a compiled pipeline on this machine",
		Long: `Run a pipeline compiled by the KFP SDK (the IR YAML) on this machine.

Parameters are parsed by their declared type: integers, floats, booleans
(true/false), JSON for lists and structs, strings verbatim. Container
components run their command on this machine (the image is not used);
lightweight Python components run in a cached virtualenv.

Exit status: 0 the run succeeded, 1 it failed or was canceled, 2 invalid input.`,
		Args: exactArgs(1),
		RunE: func(c *cobra.Command, args []string) error { return e.run(c.Context(), args[0], f) },
	}
	fl := c.Flags()
	fl.StringArrayVarP(&f.params, "param", "p", nil, "pipeline parameter NAME=VALUE (repeatable)")
	fl.StringVar(&f.pipelineRoot, "pipeline-root", "", "where artifacts are written (default $WEIR_HOME/artifacts)")
	fl.IntVar(&f.parallelism, "parallelism", 0, "maximum number of tasks running at once (default: number of CPUs)")
	fl.BoolVar(&f.noCache, "no-cache", false, "never reuse cached task results")
	fl.DurationVar(&f.taskTimeout, "task-timeout", 0, "kill an attempt that runs longer than this (e.g. 30s, 10m); a task's own kfp.kubernetes.set_timeout wins")
	fl.StringVarP(&f.output, "output", "o", "text", "output format: text or json")
	fl.BoolVarP(&f.verbose, "verbose", "v", false, "stream every task's output, prefixed with the task name")
	return c
}

func (e *env) run(ctx context.Context, file string, f *runFlags) error {
	if f.output != "text" && f.output != "json" {
		return invalid(fmt.Errorf("--output %q: want text or json", f.output))
	}
	if f.taskTimeout < 0 {
		return invalid(fmt.Errorf("--task-timeout %s: must be positive", f.taskTimeout))
	}
	if f.parallelism < 0 {
		return invalid(fmt.Errorf("--parallelism %d: must be positive", f.parallelism))
	}
	e.tuneRuntime()
	data, err := os.ReadFile(file)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return invalid(fmt.Errorf("%s: no such file", file))
		}
		return invalid(fmt.Errorf("%s: %w", file, err))
	}
	params := map[string]any{}
	for _, kv := range f.params {
		name, value, ok := strings.Cut(kv, "=")
		if !ok || name == "" {
			return invalid(fmt.Errorf("-p %q: want NAME=VALUE", kv))
		}
		params[name] = value
	}
	st, home, err := e.openStore(ctx)
	if err != nil {
		return err
	}
	closeStore := sync.OnceValue(st.Close)
	defer closeStore()
	root, err := e.pipelineRoot(home, f.pipelineRoot)
	if err != nil {
		return invalid(err)
	}
	sub := engine.Submission{
		Spec: data, SpecFile: filepath.Base(file), Params: params, PipelineRoot: root,
		Options: run.Options{Parallelism: f.parallelism, NoCache: f.noCache, TaskTimeout: f.taskTimeout},
	}
	r, p, warns, err := engine.Prepare(sub)
	for _, w := range warns {
		fmt.Fprintln(e.stderr, "warning:", w)
	}
	if err != nil {
		return invalid(err)
	}
	if f.output == "text" {
		e.noteImages(p)
	}
	if err := st.Apply(ctx, &run.Changes{NewRuns: []*run.Run{r}}); err != nil {
		return fmt.Errorf("store run: %w", err)
	}

	view := newView(e, f.output == "text", f.verbose)
	log := e.logger(f.verbose)
	eng := e.newEngine(st, home, engine.Config{Parallelism: f.parallelism, Logger: log, Observe: view.observer()})

	eng.UsePipeline(r.ID, p)

	sigCtx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	view.start(r)
	snap, err := eng.ExecuteSnapshot(sigCtx, r.ID)
	view.stop()
	if err != nil {
		return err
	}
	// Everything is committed by now, and the summary comes from the
	// engine's memory: the store closes (a checkpoint of its write-ahead
	// log, with two fsyncs) while the summary is printed.
	closed := make(chan error, 1)
	go func() { closed <- closeStore() }()
	err = e.finish(snap, f.output)
	if cerr := <-closed; cerr != nil {
		fmt.Fprintln(e.stderr, "warning: close the store:", cerr)
	}
	return err
}

// tuneRuntime tunes the Go runtime of the weir process for a command that
// drives a run to its end (unless GOGC says otherwise). Weir only
// coordinates: the machine's cores belong to the steps, and every CPU
// cycle weir spends on a run of thousands of short steps is taken from
// them. The garbage collector runs less often: such a run allocates
// steadily and collections cost a noticeable share of weir's CPU time. The
// heap may grow to five times what is live instead of twice, a few tens of
// MiB for the largest runs.
//
// Go code keeps running on as many threads as there are CPUs. With one,
// starting a process (the thread waits until the child has executed its
// program) and the store writer's batches held up everything else: ends
// of steps went unnoticed and slots stayed empty for milliseconds.
//
// The server keeps the runtime's defaults.
func (e *env) tuneRuntime() {
	if !e.process {
		return
	}
	if e.getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
}

// finish prints the summary of a run that ended (its snapshot, from the
// engine) and maps its end to the exit code.
func (e *env) finish(snap *run.Snapshot, output string) error {
	final := snap.Run
	sum := summarize(snap)
	if output == "json" {
		if err := writeJSON(e.stdout, sum); err != nil {
			return err
		}
	} else {
		writeSummary(e.stdout, sum, true)
	}
	if final.Phase != run.Succeeded {
		return &ExitError{Code: ExitFailed}
	}
	return nil
}

// pipelineRoot resolves --pipeline-root: a local directory (a path or a
// file:// URI), default $WEIR_HOME/artifacts.
func (e *env) pipelineRoot(home, flag string) (string, error) {
	if flag == "" {
		return filepath.Join(home, "artifacts"), nil
	}
	p := strings.TrimPrefix(flag, "file://")
	if strings.Contains(p, "://") {
		return "", fmt.Errorf("--pipeline-root %s: weir run writes artifacts to a local directory; remote stores are not supported here", flag)
	}
	abs, err := filepath.Abs(p)
	if err != nil {
		return "", fmt.Errorf("--pipeline-root %s: %w", flag, err)
	}
	return abs, nil
}

// noteImages says once, plainly, that container images are not used.
func (e *env) noteImages(p *spec.Pipeline) {
	images := map[string]bool{}
	for _, ex := range p.DeploymentSpec.Executors {
		if ex.Container != nil && ex.Container.Image != "" {
			images[ex.Container.Image] = true
		}
	}
	if len(images) == 0 {
		return
	}
	var list []string
	for im := range images {
		list = append(list, im)
	}
	sortStrings(list)
	fmt.Fprintf(e.stderr, "note: container images are not used (%s): steps run on this machine\n", strings.Join(list, ", "))
}

func exactArgs(n int) cobra.PositionalArgs {
	return func(c *cobra.Command, args []string) error {
		if len(args) != n {
			return usageError{fmt.Errorf("%s takes %d argument(s), got %d (usage: %s)", c.Name(), n, len(args), c.UseLine())}
		}
		return nil
	}
}

// newEngine builds the engine every command uses: the local executor and
// the Python environments of WEIR_HOME (WEIR_PYENV_ROOT and WEIR_PYTHON
// override their place and interpreter).
func (e *env) newEngine(st engine.Store, home string, cfg engine.Config) *engine.Engine {
	pythonBin := e.getenv("WEIR_PYTHON")
	if pythonBin == "" {
		pythonBin = "python3"
	}
	pyRoot := e.getenv("WEIR_PYENV_ROOT")
	if pyRoot == "" {
		pyRoot = filepath.Join(home, "pyenv")
	}
	cfg.Home = home
	ex := local.New(local.Options{WorkRoot: filepath.Join(home, "work")})
	return engine.New(st, ex, pyenv.New(pyRoot, pythonBin, cfg.Logger), cfg)
}
