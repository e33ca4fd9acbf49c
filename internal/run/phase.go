// Package run holds the runtime domain: a Run, its TaskRuns and their
// Attempts, and the single table of legal phase transitions they share.
package run

import (
	"errors"
	"fmt"
)

// ErrConflict means the request contradicts the current state: a name is
// taken, a row is still in use, or a run is not in a phase that allows it.
var ErrConflict = errors.New("conflict")

// Phase is the lifecycle state of a Run, a TaskRun or an Attempt. It is
// persisted as its string value.
type Phase string

const (
	Pending   Phase = "pending"
	Running   Phase = "running"
	Succeeded Phase = "succeeded"
	Failed    Phase = "failed"
	Skipped   Phase = "skipped"
	Cached    Phase = "cached"
	Canceled  Phase = "canceled"
)

// Phases lists every phase in display order.
var Phases = []Phase{Pending, Running, Succeeded, Failed, Skipped, Cached, Canceled}

// transitions is the one table of legal phase changes. A phase absent from
// the keys is terminal: nothing leaves it.
var transitions = map[Phase][]Phase{
	// Pending -> Succeeded: work that completes without running a process
	// (an importer).
	Pending: {Running, Succeeded, Skipped, Cached, Canceled, Failed},
	Running: {Succeeded, Failed, Canceled},
}

// retryable lists the only changes a terminal phase can undergo, and only
// through an explicit retry of its run: the run and the task runs that
// ended badly reopen (with the exit handlers that reported on them), while
// their attempts stay as they were. Nothing else ever leaves a terminal
// phase.
var retryable = map[Phase][]Phase{
	Failed:    {Pending, Running},
	Canceled:  {Pending, Running},
	Skipped:   {Pending},
	Succeeded: {Pending},
}

// Terminal reports whether p can never change again (except through a
// retry, see CheckRetry).
func (p Phase) Terminal() bool {
	_, ok := transitions[p]
	return !ok && p.Valid()
}

// Valid reports whether p is a known phase.
func (p Phase) Valid() bool {
	for _, q := range Phases {
		if p == q {
			return true
		}
	}
	return false
}

// Done reports whether p ended well enough for downstream tasks to consume
// its outputs.
func (p Phase) Done() bool { return p == Succeeded || p == Cached }

// ParsePhase converts a stored string back into a Phase.
func ParsePhase(s string) (Phase, error) {
	p := Phase(s)
	if !p.Valid() {
		return "", fmt.Errorf("unknown phase %q", s)
	}
	return p, nil
}

// TransitionError reports an illegal phase change.
type TransitionError struct {
	Kind     string // "run", "task run" or "attempt"
	ID       string
	From, To Phase
}

func (e *TransitionError) Error() string {
	return fmt.Sprintf("illegal %s transition %s -> %s for %s", e.Kind, e.From, e.To, e.ID)
}

// CheckTransition returns a *TransitionError unless from -> to is legal.
// Staying in the same non-terminal phase is allowed (an idempotent write).
func CheckTransition(kind, id string, from, to Phase) error {
	if from == to && !from.Terminal() {
		return nil
	}
	for _, q := range transitions[from] {
		if q == to {
			return nil
		}
	}
	return &TransitionError{Kind: kind, ID: id, From: from, To: to}
}

// CheckRetry returns a *TransitionError unless a retry may move a run or
// task run from -> to.
func CheckRetry(kind, id string, from, to Phase) error {
	for _, q := range retryable[from] {
		if q == to {
			return nil
		}
	}
	return &TransitionError{Kind: kind + " retry", ID: id, From: from, To: to}
}

// Sources returns every phase from which a change to "to" is legal, in
// table order: what a store compares against when it updates a row in one
// statement.
func Sources(to Phase) []Phase {
	var out []Phase
	for _, from := range Phases {
		if CheckTransition("", "", from, to) == nil {
			out = append(out, from)
		}
	}
	return out
}
