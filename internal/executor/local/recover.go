package local

import (
	"fmt"
	"sync"
	"syscall"
	"time"

	"github.com/weir-dev/weir/internal/executor"
)

// recovered tracks a handle this Executor did not start, typically one
// persisted by an earlier weir process.
type recovered struct {
	ref handleRef

	mu       sync.Mutex
	canceled bool             // Cancel signalled the process
	final    *executor.Status // set once the process is known to be gone
	watching bool             // a pidfd watch was attempted
}

// recoveredFor returns the tracking record for ref, creating it if needed.
func (e *Executor) recoveredFor(ref handleRef) *recovered {
	e.mu.Lock()
	defer e.mu.Unlock()
	k := ref.key()
	r := e.recovered[k]
	if r == nil {
		r = &recovered{ref: ref}
		e.recovered[k] = r
	}
	return r
}

// probe inspects the process ref points to. alive means it is running and is
// the same process (same start time, same boot). held means its pid is still
// occupied by that same process, alive or an unreaped zombie, so the pid and
// the process group id cannot have been reused. why explains a process that
// is not alive.
func probe(ref handleRef) (alive, held bool, why string) {
	if b := bootID(); b != "" && ref.Boot != "" && b != ref.Boot {
		return false, false, fmt.Sprintf("the host restarted after process %d was started", ref.PID)
	}
	st, err := readProcStat(ref.PID)
	if err != nil {
		return false, false, fmt.Sprintf("process %d no longer exists", ref.PID)
	}
	if st.Start != ref.Start {
		return false, false, fmt.Sprintf("process %d no longer exists (its pid now belongs to another process)", ref.PID)
	}
	if st.dead() {
		return false, true, fmt.Sprintf("process %d has terminated", ref.PID)
	}
	return true, true, ""
}

// pollRecovered reports the status of a handle not started by this Executor.
func (e *Executor) pollRecovered(ref handleRef) executor.Status {
	r := e.recoveredFor(ref)
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.final != nil {
		return *r.final
	}
	alive, _, why := probe(ref)
	if alive {
		e.watch(r)
		return executor.Status{State: executor.StateRunning}
	}
	st := executor.Status{
		State:   executor.StateLost,
		Message: why + "; its exit status is unknown because it was not started by this weir process",
	}
	if r.canceled {
		st = executor.Status{State: executor.StateCanceled, Message: "canceled; " + why}
	}
	r.final = &st
	return st
}

// cancelRecovered stops the process group of a handle not started by this
// Executor, provided its leader is still the original process.
func (e *Executor) cancelRecovered(ref handleRef) error {
	r := e.recoveredFor(ref)
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.final != nil || r.canceled {
		return nil
	}
	alive, held, _ := probe(ref)
	if !alive {
		if held {
			// The leader is a zombie its parent has not reaped yet; the
			// group id is still ours, so sweep what is left of it.
			_ = signalGroup(ref.PGID, syscall.SIGKILL)
		}
		return nil
	}
	r.canceled = true
	if err := signalGroup(ref.PGID, syscall.SIGTERM); err != nil {
		return fmt.Errorf("cancel attempt %q: %w", ref.Attempt, err)
	}
	_ = signalGroup(ref.PGID, syscall.SIGCONT)
	e.watch(r)
	time.AfterFunc(e.grace, func() {
		// Only while the leader holds the pid can the group id not have
		// been reused by an unrelated process group.
		if _, held, _ := probe(ref); held {
			_ = signalGroup(ref.PGID, syscall.SIGKILL)
		}
	})
	return nil
}

// watch arranges, once per recovered handle, for the attempt id to be
// delivered on Changed when the process ends. It needs pidfd support; without
// it callers must keep polling. r.mu must be held.
func (e *Executor) watch(r *recovered) {
	if r.watching {
		return
	}
	r.watching = true
	f, err := openPidfd(r.ref.PID)
	if err != nil {
		return
	}
	// The pidfd refers to whatever process had the pid when it was opened;
	// if the start time still matches now, that was our process.
	if st, err := readProcStat(r.ref.PID); err != nil || st.Start != r.ref.Start || st.dead() {
		_ = f.Close()
		e.changes.notify(r.ref.Attempt)
		return
	}
	go func() {
		err := waitPidfd(f)
		_ = f.Close()
		if err == nil {
			e.changes.notify(r.ref.Attempt)
		}
	}()
}
