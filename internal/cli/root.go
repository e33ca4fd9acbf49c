// Package cli holds weir's commands. Commands write to injected writers and
// return errors; Main maps an error to the process exit code.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/pprof"

	"github.com/spf13/cobra"

	"github.com/weir-dev/weir/internal/engine"
	"github.com/weir-dev/weir/internal/spec"
	"github.com/weir-dev/weir/internal/store"
)

// Exit codes.
const (
	ExitOK      = 0
	ExitFailed  = 1 // the run failed or was canceled, or an operation failed
	ExitInvalid = 2 // invalid input: file, pipeline, parameter or flag
)

// ExitError carries an exit code; its message, if any, is printed.
type ExitError struct {
	Code int
	Err  error
}

func (e *ExitError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("exit %d", e.Code)
	}
	return e.Err.Error()
}

func (e *ExitError) Unwrap() error { return e.Err }

func invalid(err error) error { return &ExitError{Code: ExitInvalid, Err: err} }

// env holds what every command shares.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	getenv         func(string) string
	// process is set when weir owns the process (the weir binary, not a
	// test calling Main): only then may a command change process-wide
	// runtime settings (see tuneRuntime).
	process bool
}

// home returns WEIR_HOME (default ~/.weir).
func (e *env) home() (string, error) {
	if h := e.getenv("WEIR_HOME"); h != "" {
		return filepath.Abs(h)
	}
	u, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("WEIR_HOME is not set and the home directory is unknown: %w", err)
	}
	return filepath.Join(u, ".weir"), nil
}

func (e *env) openStore(ctx context.Context) (*store.Store, string, error) {
	home, err := e.home()
	if err != nil {
		return nil, "", err
	}
	s, err := store.OpenSQLite(ctx, filepath.Join(home, "weir.db"))
	if err != nil {
		return nil, "", err
	}
	return s, home, nil
}

// Main runs weir with args and returns the exit code.
func Main(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	return execute(&env{stdin: stdin, stdout: stdout, stderr: stderr, getenv: os.Getenv}, args)
}

// MainProcess is Main for the weir binary, which owns its process: a
// command that drives a run may tune the Go runtime for it.
func MainProcess(args []string) int {
	return execute(&env{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv, process: true}, args)
}

func execute(e *env, args []string) int {
	stdin, stdout, stderr := e.stdin, e.stdout, e.stderr
	// WEIR_CPUPROFILE=FILE writes a CPU profile of this invocation (for
	// `go tool pprof`).
	if path := os.Getenv("WEIR_CPUPROFILE"); path != "" {
		if f, err := os.Create(path); err == nil {
			if pprof.StartCPUProfile(f) == nil {
				defer func() { pprof.StopCPUProfile(); f.Close() }()
			}
		}
	}
	root := newRoot(e)
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.Execute()
	if err == nil {
		return ExitOK
	}
	code := ExitFailed
	var ee *ExitError
	var ve *spec.ValidationError
	var pe *engine.InvalidParams
	switch {
	case errors.As(err, &ee):
		code = ee.Code
		if ee.Err == nil {
			return code
		}
	case errors.As(err, &ve), errors.As(err, &pe):
		code = ExitInvalid
	case isUsageError(err):
		code = ExitInvalid
	}
	fmt.Fprintln(stderr, "error:", err)
	return code
}

// usageError marks a flag or argument error reported by cobra.
type usageError struct{ error }

func isUsageError(err error) bool {
	var u usageError
	return errors.As(err, &u)
}

func newRoot(e *env) *cobra.Command {
	root := &cobra.Command{
		Use:           "weir",
		Short:         "Run Kubeflow Pipelines compiled pipelines, fast, on one machine or a server",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error { return usageError{err} })
	root.AddCommand(newRunCmd(e), newRunsCmd(e), newLogsCmd(e), newServerCmd(e))
	addClientCmds(e, root)
	return root
}

// logger returns the structured logger for diagnostics (to stderr).
func (e *env) logger(verbose bool) *slog.Logger {
	level := slog.LevelWarn
	if verbose {
		level = slog.LevelInfo
	}
	return slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: level}))
}
