// Package executor defines how an Attempt's process is started, observed and
// stopped. Implementations live in sub-packages (local, later kube) and all
// pass the conformance suite in executortest.
package executor

import (
	"context"
	"io"
	"time"
)

// Spec is everything an executor needs to start one Attempt.
type Spec struct {
	// AttemptID identifies the attempt; Start is idempotent on it.
	AttemptID string
	// Command is the fully resolved argv (placeholders already substituted).
	Command []string
	// Env is added to the executor's base environment (KEY=VALUE).
	Env []string
	// Dir is the working directory; empty means a fresh directory chosen by
	// the executor.
	Dir string
	// LogPath is the file that receives the process's stdout and stderr.
	LogPath string
	// Timeout, when positive, kills the attempt once it has run this long.
	Timeout time.Duration
}

// Handle is the durable reference to a started attempt. It is persisted with
// the attempt so that a restarted process can recover it.
type Handle string

// State is what an executor knows about an attempt.
type State string

const (
	StateRunning  State = "running"
	StateExited   State = "exited"   // ExitCode is meaningful
	StateLost     State = "lost"     // the process vanished and its exit status is unknown
	StateTimedOut State = "timedout" // killed because Spec.Timeout elapsed
	StateCanceled State = "canceled" // killed by Cancel
)

// Status is the result of Poll.
type Status struct {
	State    State
	ExitCode int
	// Message explains a non-zero exit or a lost process.
	Message string
}

// Executor starts and observes attempts. Every method is safe for
// concurrent use.
type Executor interface {
	// Start launches the attempt described by spec and returns its handle.
	// Starting an attempt id that is already known returns the existing
	// handle without starting a second process.
	Start(ctx context.Context, spec Spec) (Handle, error)
	// Poll reports the attempt's state without blocking.
	Poll(ctx context.Context, h Handle) (Status, error)
	// Cancel stops the attempt and everything it spawned. Canceling an
	// attempt that already ended is not an error.
	Cancel(ctx context.Context, h Handle) error
	// Logs opens the attempt's combined output from the beginning.
	Logs(ctx context.Context, h Handle) (io.ReadCloser, error)
	// Changed delivers attempt ids whose status may have changed; the
	// receiver then calls Poll. Deliveries may be coalesced.
	Changed() <-chan string
}

// Finder is implemented by executors that can find an attempt's process
// without its handle: the handle is recorded just after the process starts,
// so a crash in between leaves a process that only its attempt id names.
type Finder interface {
	Find(ctx context.Context, attemptID string) (Handle, bool, error)
}

// Releaser is implemented by executors that keep what they know about the
// attempts they started in memory. Release tells them that the caller has
// seen the attempt end and will not Poll it again, so that a long-lived
// executor does not grow with every attempt it ever ran. Logs and Cancel
// keep working on a released handle.
type Releaser interface {
	Release(h Handle)
}
