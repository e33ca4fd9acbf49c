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
	mu sync.Mutex
	// ref is the handle's reference. For a handle without a start time
	// (Start == 0) its Start is filled in once probe has confirmed the
	// process by its attempt marker, so that later checks compare start
	// times, which also recognise the process as a zombie.
	ref      handleRef
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
// the same process: same boot, and the same start time or, for a handle
// without one (Start == 0, as Start writes them), the attempt marker
// attemptEnv=<ref.Attempt> in its environment. held means its pid is still
// occupied by that same process, alive or an unreaped zombie, so the pid and
// the process group id cannot have been reused. why explains a process that
// is not alive. start is the process's start time when held.
//
// A process found by the marker is confirmed only while alive: a zombie's
// environment can no longer be read, so for a handle without a start time
// an unconfirmed zombie is not held.
func probe(ref handleRef) (alive, held bool, why string, start uint64) {
	if b := bootID(); b != "" && ref.Boot != "" && b != ref.Boot {
		return false, false, fmt.Sprintf("the host restarted after process %d was started", ref.PID), 0
	}
	reused := fmt.Sprintf("process %d no longer exists (its pid now belongs to another process)", ref.PID)
	st, err := readProcStat(ref.PID)
	if err != nil {
		return false, false, fmt.Sprintf("process %d no longer exists", ref.PID), 0
	}
	if ref.Start == 0 {
		if st.dead() {
			return false, false, fmt.Sprintf("process %d has terminated", ref.PID), 0
		}
		env, err := readEnviron(ref.PID)
		if err != nil || !hasMarker(env, ref.Attempt) {
			return false, false, reused, 0
		}
		// The environment was that of the process with this start time
		// only if the pid still belongs to it.
		first := st.Start
		if st, err = readProcStat(ref.PID); err != nil || st.Start != first {
			return false, false, reused, 0
		}
	} else if st.Start != ref.Start {
		return false, false, reused, 0
	}
	if st.dead() {
		return false, true, fmt.Sprintf("process %d has terminated", ref.PID), st.Start
	}
	return true, true, "", st.Start
}

// probe inspects r's process (see probe) and, once a handle without a start
// time is confirmed, remembers the process's start time. r.mu must be held.
func (r *recovered) probe() (alive, held bool, why string) {
	alive, held, why, start := probe(r.ref)
	if held && r.ref.Start == 0 {
		r.ref.Start = start
	}
	return alive, held, why
}

// pollRecovered reports the status of a handle not started by this Executor.
func (e *Executor) pollRecovered(ref handleRef) executor.Status {
	r := e.recoveredFor(ref)
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.final != nil {
		return *r.final
	}
	alive, _, why := r.probe()
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
	alive, held, _ := r.probe()
	ref = r.ref // with the start time probe confirmed
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
		if _, held, _, _ := probe(ref); held {
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
	// if the start time still matches now, that was our process. (Callers
	// have confirmed the process, so r.ref.Start is known.)
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
