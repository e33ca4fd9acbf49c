package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// summary is the part of the `weir run -o json` run summary (docs/cli.md)
// the bench reads.
type summary struct {
	RunID      string        `json:"run_id"`
	Pipeline   string        `json:"pipeline"`
	State      string        `json:"state"`
	Error      string        `json:"error"`
	DurationMS int64         `json:"duration_ms"`
	Tasks      []taskSummary `json:"tasks"`
}

type taskSummary struct {
	Name       string `json:"name"`
	Kind       string `json:"kind"`
	State      string `json:"state"`
	Error      string `json:"error"`
	DurationMS int64  `json:"duration_ms"`
	Log        string `json:"log"`
	CachedFrom string `json:"cached_from"`
}

// step reports whether the task runs a process of its own (a container or
// an importer), as opposed to a DAG, a loop or a loop iteration, whose
// duration_ms spans their children's.
func (t taskSummary) step() bool {
	switch t.Kind {
	case "dag", "loop", "iteration":
		return false
	}
	return true
}

// weirRun is one timed `weir run FILE -o json` invocation.
type weirRun struct {
	// Wall is the whole process's wall time, from before its start until
	// it was waited for.
	Wall time.Duration
	// Internal is the run's duration_ms: from the run's creation, after
	// the spec was read and validated, to its end.
	Internal time.Duration
	// TaskSum is the sum of the steps' duration_ms (container and
	// importer tasks: a DAG, loop or iteration spans its children).
	TaskSum time.Duration
	// Steps is the number of container and importer tasks.
	Steps   int
	Summary *summary
	// Home is the run's WEIR_HOME.
	Home string
}

// expect is what runWeirIn checks in a run summary, beyond the run having
// succeeded.
type expect struct {
	// steps is the number of container and importer tasks; any number
	// when negative.
	steps int
	// state is the state every task must be in: "succeeded" for a run
	// that executes its steps, "cached" for a run that reuses them all.
	state string
}

// runFailure is weir failing a run (or not producing a summary): the bench
// then exits non-zero.
type runFailure struct{ msg string }

func (e *runFailure) Error() string { return e.msg }

// newHome creates a fresh, empty WEIR_HOME for one weir invocation.
func (b *bench) newHome(name string) (string, error) {
	b.homes++
	home := filepath.Join(b.dir, "homes", fmt.Sprintf("%s-%03d", name, b.homes))
	return home, os.MkdirAll(home, 0o755)
}

// weirEnv is the environment of every weir process: the bench's own,
// with WEIR_HOME set to home, the shared WEIR_PYENV_ROOT, and TMPDIR inside
// the bench's directory (steps create temporary directories there).
func (b *bench) weirEnv(home string) []string {
	env := make([]string, 0, len(os.Environ())+3)
	for _, kv := range os.Environ() {
		switch {
		case strings.HasPrefix(kv, "WEIR_HOME="), strings.HasPrefix(kv, "WEIR_PYENV_ROOT="), strings.HasPrefix(kv, "TMPDIR="):
			continue
		}
		env = append(env, kv)
	}
	return append(env, "WEIR_HOME="+home, "WEIR_PYENV_ROOT="+b.pyenvRoot, "TMPDIR="+filepath.Join(b.dir, "tmp"))
}

// runWeir runs `weir run FILE -o json ARGS...` in a fresh WEIR_HOME, times
// it, and checks that the run succeeded with wantSteps container and
// importer tasks (any number when wantSteps is negative), every task
// succeeded.
func (b *bench) runWeir(ctx context.Context, name string, timeout time.Duration, file string, wantSteps int, args ...string) (*weirRun, error) {
	home, err := b.newHome(name)
	if err != nil {
		return nil, err
	}
	return b.runWeirIn(ctx, home, timeout, file, expect{steps: wantSteps, state: "succeeded"}, args...)
}

// runWeirIn runs `weir run FILE -o json ARGS...` with WEIR_HOME=home, times
// it, and checks the summary: the run succeeded, with the expected number
// of steps, every task in the expected state.
func (b *bench) runWeirIn(ctx context.Context, home string, timeout time.Duration, file string, want expect, args ...string) (*weirRun, error) {
	argv := append([]string{"run", file, "-o", "json"}, args...)
	stdout, wall, err := b.weirCmd(ctx, home, timeout, argv...)
	describe := func() string { return fmt.Sprintf("weir %s (WEIR_HOME=%s)", strings.Join(argv, " "), home) }
	var failure *runFailure
	if errors.As(err, &failure) {
		if s, derr := decodeSummary(stdout); derr == nil {
			failure.msg += "\n" + failedTasks(s)
		}
		return nil, failure
	} else if err != nil {
		return nil, err
	}
	s, err := decodeSummary(stdout)
	if err != nil {
		return nil, &runFailure{fmt.Sprintf("stdout is not a run summary: %v: %s", err, describe())}
	}
	if s.State != "succeeded" {
		return nil, &runFailure{fmt.Sprintf("run %s is %s, want succeeded: %s\n%s", s.RunID, s.State, describe(), failedTasks(s))}
	}
	r := &weirRun{Wall: wall, Internal: time.Duration(s.DurationMS) * time.Millisecond, Summary: s, Home: home}
	for _, t := range s.Tasks {
		if t.State != want.state {
			return nil, &runFailure{fmt.Sprintf("run %s: task %s is %s, want %s: %s", s.RunID, t.Name, t.State, want.state, describe())}
		}
		if want.state == "cached" && t.CachedFrom == "" {
			return nil, &runFailure{fmt.Sprintf("run %s: task %s is cached but names no cached_from attempt: %s", s.RunID, t.Name, describe())}
		}
		if t.step() {
			r.Steps++
			r.TaskSum += time.Duration(t.DurationMS) * time.Millisecond
		}
	}
	if want.steps >= 0 && r.Steps != want.steps {
		return nil, &runFailure{fmt.Sprintf("run %s has %d steps (container and importer tasks), want %d: %s", s.RunID, r.Steps, want.steps, describe())}
	}
	return r, nil
}

// weirCmd runs `weir ARGS...` with WEIR_HOME=home, bounded by timeout, and
// returns its stdout and wall time, from before the process is started to
// after it is waited for. A timeout or a non-zero exit is a *runFailure
// (stdout is still returned with the latter).
func (b *bench) weirCmd(ctx context.Context, home string, timeout time.Duration, argv ...string) ([]byte, time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, b.weirBin, argv...)
	cmd.Dir = home
	cmd.Env = b.weirEnv(home)
	// On a timeout or an interrupt, SIGTERM lets weir cancel the run and
	// stop its steps; SIGKILL follows if it has not exited 10s later.
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 10 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	wall := time.Since(start)
	describe := func() string {
		return fmt.Sprintf("weir %s (WEIR_HOME=%s)\nstderr:\n%s", strings.Join(argv, " "), home, indent(tail(stderr.String(), 40)))
	}
	var exit *exec.ExitError
	switch {
	case ctx.Err() == context.DeadlineExceeded:
		return nil, wall, &runFailure{fmt.Sprintf("timed out after %v: %s", timeout, describe())}
	case ctx.Err() != nil:
		return nil, wall, ctx.Err()
	case errors.As(err, &exit):
		return stdout.Bytes(), wall, &runFailure{fmt.Sprintf("exit code %d: %s", exit.ExitCode(), describe())}
	case err != nil:
		return nil, wall, fmt.Errorf("starting weir: %w", err)
	}
	return stdout.Bytes(), wall, nil
}

// decodeSummary decodes the run summary, which must be all of stdout.
func decodeSummary(stdout []byte) (*summary, error) {
	var s summary
	dec := json.NewDecoder(bytes.NewReader(stdout))
	if err := dec.Decode(&s); err != nil {
		return nil, err
	}
	if rest := bytes.TrimSpace(stdout[dec.InputOffset():]); len(rest) > 0 {
		return nil, fmt.Errorf("stdout holds more than the summary: %q", tail(string(rest), 5))
	}
	if s.RunID == "" {
		return nil, errors.New("the summary has no run_id")
	}
	return &s, nil
}

func failedTasks(s *summary) string {
	var lines []string
	if s.Error != "" {
		lines = append(lines, "run error: "+s.Error)
	}
	for _, t := range s.Tasks {
		if t.State != "succeeded" {
			lines = append(lines, fmt.Sprintf("task %s: %s %s", t.Name, t.State, t.Error))
		}
	}
	return strings.Join(lines, "\n")
}

// compile runs a Python script with the kfp interpreter and returns its
// stdout.
func (b *bench) compile(ctx context.Context, args ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, b.python, args...)
	cmd.Dir = b.dir
	cmd.Env = append(os.Environ(), "TMPDIR="+filepath.Join(b.dir, "tmp"))
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("%s %s: %v\n%s", b.python, strings.Join(args, " "), err, indent(tail(stderr.String(), 40)))
	}
	return stdout.Bytes(), nil
}

// tail returns the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = append([]string{"..."}, lines[len(lines)-n:]...)
	}
	return strings.Join(lines, "\n")
}

func indent(s string) string {
	if strings.TrimSpace(s) == "" {
		return "    (empty)"
	}
	return "    " + strings.ReplaceAll(s, "\n", "\n    ")
}
