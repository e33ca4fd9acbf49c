// Package local is the executor that runs each attempt as a child process of
// the weir process, on the same host.
//
// # Processes
//
// Every attempt runs its Spec.Command directly (no shell wrapper) in a
// process group of its own, with stdin from /dev/null and stdout and stderr
// both appended to Spec.LogPath. Signals for cancellation and timeouts go to
// the whole group, so helpers and grandchildren die with the attempt; only
// processes that leave the group themselves (setsid, setpgid) escape. When the
// attempt's main process exits, whatever it left running in its group is
// killed with SIGKILL, as a container runtime does when a container's main
// process exits.
//
// # Handles
//
// A handle is compact JSON, for example
//
//	{"v":1,"attempt":"a1","pid":4242,"pgid":4242,"start":0,"boot":"6f1d0c52-8b1e-4b8e-9a57-2f0f4b7c1e11","log":"/runs/a1.log"}
//
// holding the attempt id, the leader's pid and process group id, the
// leader's start time (0 in the handles Start returns; see below), the
// kernel boot id and the log path. Every process of an attempt has
// WEIR_ATTEMPT_ID=<attempt id> in its environment: a live process with the
// handle's pid and exactly that entry in /proc/<pid>/environ is the
// attempt's leader; no process, a zombie or a process without the entry (a
// later one that reuses the pid) is not. Handles written by earlier
// versions, and those Find returns, carry the leader's start time in clock
// ticks after boot (field 22 of /proc/<pid>/stat) instead, and are checked
// by it. A new Executor, for instance in a restarted weir process, can
// Poll, Cancel and read the Logs of a handle it did not start: the attempt
// is running while its leader is alive, and StateLost (or StateCanceled,
// after Cancel) once it is gone, because the exit status of a process that
// is not our child cannot be learned.
//
// # Completion
//
// Each started attempt has one goroutine that waits for the process to exit.
// Up to Options.BlockingWaits of them at a time wait in a blocking waitid(2),
// each holding an OS thread: the kernel wakes that thread as the process
// exits, and the goroutine goes on to collect the exit on the same thread.
// This is the quickest way to learn of an exit and the cheapest in CPU
// time, which is what a run of many short steps needs. The others park in
// the runtime's poller on a pidfd, where the kernel supports pidfds, and
// hold no thread, so that thousands of attempts can run at once. Either
// way the goroutine records the final Status in memory and then delivers
// the attempt id on Changed. Poll only reads that memory (or /proc, for a
// recovered handle) and never blocks.
//
// The package is Linux-only: it relies on /proc and pidfds.
package local

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/weir-dev/weir/internal/executor"
)

// DefaultKillGrace is the time between SIGTERM and SIGKILL when
// Options.KillGrace is not set.
const DefaultKillGrace = 2 * time.Second

// DefaultBlockingWaits is Options.BlockingWaits when it is not set: at most
// this many OS threads wait for attempts to exit.
const DefaultBlockingWaits = 64

// Options configures an Executor.
type Options struct {
	// WorkRoot is where fresh working directories are created for specs
	// with an empty Dir, one per attempt. Empty means
	// $TMPDIR/weir-work. The executor never deletes these directories.
	WorkRoot string
	// KillGrace is how long Cancel and timeouts wait after SIGTERM before
	// they SIGKILL the attempt's process group. Zero or negative means
	// DefaultKillGrace.
	KillGrace time.Duration
	// BlockingWaits is how many running attempts may each have an OS
	// thread blocked in waitid(2) until the attempt's process exits (see
	// the package documentation); the others wait without a thread.
	// Zero means DefaultBlockingWaits; negative means none.
	BlockingWaits int
}

// Executor runs attempts as local child processes. It implements
// executor.Executor; create it with New. All methods are safe for concurrent
// use.
//
// Start is idempotent per attempt id for the lifetime of the Executor value:
// the attempt table is kept in memory and not persisted, so a new Executor
// starts a new process for an id it has not seen. Callers recover earlier
// attempts through their persisted handles instead.
type Executor struct {
	workRoot string
	grace    time.Duration
	changes  *notifier

	mu        sync.Mutex
	attempts  map[string]*attempt          // started by this Executor, by attempt id
	byHandle  map[executor.Handle]*attempt // the same attempts, by their handle
	recovered map[string]*recovered        // handles from elsewhere, by handleRef.key

	paths *pathCache
	env   envCache

	// blocking holds a token for every waiter blocked in waitid; its
	// capacity is Options.BlockingWaits.
	blocking chan struct{}
	// waits counts, for tests, the waits done in waitid (blocking) and
	// on a pidfd or otherwise (parked).
	waits struct{ blocking, parked atomic.Int64 }

	nullOnce sync.Once
	null     *os.File // keeps nullFD open
	nullFD   int
}

var (
	_ executor.Executor = (*Executor)(nil)
	_ executor.Finder   = (*Executor)(nil)
	_ executor.Releaser = (*Executor)(nil)
)

// New returns an Executor configured by opts.
func New(opts Options) *Executor {
	e := &Executor{
		workRoot:  opts.WorkRoot,
		grace:     opts.KillGrace,
		changes:   newNotifier(),
		attempts:  make(map[string]*attempt),
		byHandle:  make(map[executor.Handle]*attempt),
		recovered: make(map[string]*recovered),
		paths:     newPathCache(),
	}
	if e.workRoot == "" {
		e.workRoot = filepath.Join(os.TempDir(), "weir-work")
	}
	if e.grace <= 0 {
		e.grace = DefaultKillGrace
	}
	n := opts.BlockingWaits
	if n == 0 {
		n = DefaultBlockingWaits
	}
	e.blocking = make(chan struct{}, max(n, 0))
	return e
}

// attempt is one attempt started by this Executor.
type attempt struct {
	id    string
	ready chan struct{} // closed when Start has finished, successfully or not

	// Written before ready is closed and read-only afterwards.
	startErr error
	ref      handleRef
	handle   executor.Handle
	timeout  time.Duration

	mu     sync.Mutex
	status executor.Status
	// exited is set once the leader has terminated. From then on the
	// group must not be signalled: after the leader is reaped its pid, and
	// so the group id, may be reused.
	exited bool
	// reason is StateCanceled or StateTimedOut once a stop was requested.
	reason   executor.State
	timer    *time.Timer // Spec.Timeout
	escalate *time.Timer // SIGKILL after the grace period
}

// Start launches spec.Command and returns the attempt's handle; see the
// package documentation for the handle format. If the attempt id is already
// known to this Executor, Start waits for that attempt's start to finish and
// returns its handle (or error) without starting another process; the rest
// of spec is then ignored.
//
// Start creates Spec.Dir and the parent directories of Spec.LogPath as
// needed. An empty Spec.Dir gets a fresh directory under Options.WorkRoot.
// A PATH in Spec.Env is used to resolve a Command[0] without a slash;
// otherwise the weir process's own PATH is.
//
// Start returns an error, and no handle, when the process cannot be started
// at all, for example when the executable does not exist
// (`start attempt "a1": exec: "nosuch": executable file not found in $PATH`,
// which matches exec.ErrNotFound with errors.Is). A failed attempt id is
// forgotten, so a later Start with the same id tries again. ctx bounds only
// the start itself, not the life of the process.
//
// The completion of a very short attempt may be delivered on Changed before
// the caller has stored the returned handle; callers should Poll once after
// storing it.
func (e *Executor) Start(ctx context.Context, spec executor.Spec) (executor.Handle, error) {
	if err := validate(spec); err != nil {
		return "", err
	}
	if err := ctx.Err(); err != nil {
		return "", fmt.Errorf("start attempt %q: %w", spec.AttemptID, err)
	}
	e.mu.Lock()
	if a, ok := e.attempts[spec.AttemptID]; ok {
		e.mu.Unlock()
		select {
		case <-a.ready:
		case <-ctx.Done():
			return "", fmt.Errorf("start attempt %q: %w", spec.AttemptID, ctx.Err())
		}
		if a.startErr != nil {
			return "", a.startErr
		}
		return a.handle, nil
	}
	a := &attempt{
		id:     spec.AttemptID,
		ready:  make(chan struct{}),
		status: executor.Status{State: executor.StateRunning},
	}
	e.attempts[a.id] = a
	e.mu.Unlock()

	if err := e.spawn(a, spec); err != nil {
		a.startErr = err
		e.mu.Lock()
		delete(e.attempts, a.id)
		e.mu.Unlock()
		close(a.ready)
		return "", err
	}
	e.mu.Lock()
	e.byHandle[a.handle] = a
	e.mu.Unlock()
	close(a.ready)
	return a.handle, nil
}

// validate rejects specs that cannot be started.
func validate(spec executor.Spec) error {
	switch {
	case spec.AttemptID == "":
		return fmt.Errorf("start attempt: empty attempt id")
	case len(spec.Command) == 0 || spec.Command[0] == "":
		return fmt.Errorf("start attempt %q: empty command", spec.AttemptID)
	case spec.LogPath == "":
		return fmt.Errorf("start attempt %q: empty log path", spec.AttemptID)
	}
	return nil
}

// spawn starts the process for a and its waiter, filling in a.ref,
// a.handle and the timeout timer.
func (e *Executor) spawn(a *attempt, spec executor.Spec) error {
	wrap := func(err error) error { return fmt.Errorf("start attempt %q: %w", a.id, err) }

	logPath, err := filepath.Abs(spec.LogPath)
	if err != nil {
		return wrap(fmt.Errorf("log path: %w", err))
	}
	dir, fresh := spec.Dir, false
	if dir == "" {
		// The work root usually exists already: try without checking.
		if dir, err = os.MkdirTemp(e.workRoot, dirPrefix(a.id)); err != nil {
			if err := os.MkdirAll(e.workRoot, 0o755); err != nil {
				return wrap(fmt.Errorf("create work root: %w", err))
			}
			if dir, err = os.MkdirTemp(e.workRoot, dirPrefix(a.id)); err != nil {
				return wrap(fmt.Errorf("create working directory: %w", err))
			}
		}
		fresh = true
	}
	fail := func(err error) error {
		if fresh {
			_ = os.Remove(dir)
		}
		return wrap(err)
	}

	path, err := e.paths.resolve(spec.Command[0], spec.Env)
	if err != nil {
		return fail(err)
	}
	logfd, err := openLog(logPath)
	if err != nil {
		return fail(err)
	}
	// The child holds its own descriptors; the parent's copy is not needed
	// once the process has started (or failed to).
	defer unix.Close(logfd)
	stdin := e.devNull()
	if stdin < 0 {
		if stdin, err = unix.Open(os.DevNull, unix.O_RDONLY|unix.O_CLOEXEC, 0); err != nil {
			return fail(&fs.PathError{Op: "open", Path: os.DevNull, Err: err})
		}
		defer unix.Close(stdin)
	}
	env, err := e.env.childEnv(spec.Env, attemptEnv+"="+a.id)
	if err != nil {
		return fail(err)
	}

	attr := &syscall.ProcAttr{
		Dir:   dir,
		Env:   env,
		Files: []uintptr{uintptr(stdin), uintptr(logfd), uintptr(logfd)},
		Sys:   &syscall.SysProcAttr{Setpgid: true},
	}
	pid, err := startProcess(path, spec.Command, attr)
	if errors.Is(err, fs.ErrNotExist) && !isDir(dir) {
		// The child could not enter a working directory that does not
		// exist yet: create it and start again. In the usual case it
		// exists, and checking first would cost every start a system
		// call.
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fail(fmt.Errorf("create working directory: %w", err))
		}
		pid, err = startProcess(path, spec.Command, attr)
	}
	runtime.KeepAlive(e.null) // stdin
	if err != nil {
		return fail(err)
	}

	// The process is identified across restarts of weir by its pid and the
	// attempt marker in its environment (see probe), so there is nothing
	// to read back from /proc here.
	a.ref = handleRef{V: handleVersion, Attempt: a.id, PID: pid, PGID: pid, Boot: bootID(), Log: logPath}
	a.handle = a.ref.encode()
	a.timeout = spec.Timeout
	if spec.Timeout > 0 {
		a.timer = time.AfterFunc(spec.Timeout, func() { _ = e.stop(a, executor.StateTimedOut) })
	}
	go e.wait(a)
	return nil
}

// startProcess starts the executable path with argv and attr, in the way
// os.StartProcess does (and with its errors), without what os.Process adds:
// a pidfd from clone(2) that the waiter would not use, and a Process value.
// If the process cannot be started (a working directory it cannot enter, a
// failing execve), no process is left behind.
func startProcess(path string, argv []string, attr *syscall.ProcAttr) (int, error) {
	pid, _, err := syscall.StartProcess(path, argv, attr)
	if err != nil {
		return 0, &fs.PathError{Op: "fork/exec", Path: path, Err: err}
	}
	return pid, nil
}

// reap waits for child pid to terminate and collects its status.
func reap(pid int) (syscall.WaitStatus, error) {
	var ws syscall.WaitStatus
	for {
		_, err := syscall.Wait4(pid, &ws, 0, nil)
		if errors.Is(err, syscall.EINTR) {
			continue
		}
		if err != nil {
			return ws, os.NewSyscallError("wait", err)
		}
		return ws, nil
	}
}

// openLog opens (creating or appending to) an attempt's log file, creating
// its directory only when it is missing, and returns the descriptor.
func openLog(path string) (int, error) {
	// A plain descriptor is all the child needs: an *os.File would cost a
	// system call (os.NewFile checks for non-blocking mode), and
	// os.OpenFile several more (trying the runtime's poller, which a
	// regular file gains nothing from).
	open := func() (int, error) {
		fd, err := unix.Open(path, unix.O_WRONLY|unix.O_CREAT|unix.O_APPEND|unix.O_CLOEXEC, 0o644)
		if err != nil {
			return -1, &fs.PathError{Op: "open", Path: path, Err: err}
		}
		return fd, nil
	}
	fd, err := open()
	if errors.Is(err, fs.ErrNotExist) {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return -1, fmt.Errorf("create log directory: %w", err)
		}
		fd, err = open()
	}
	if err != nil {
		return -1, fmt.Errorf("open log: %w", err)
	}
	return fd, nil
}

// isDir reports whether path is an existing directory.
func isDir(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.IsDir()
}

// devNull returns the descriptor of the executor's shared read-only
// /dev/null, the standard input of every attempt, or -1 if it cannot be
// opened (spawn then opens one per process). The descriptor stays valid
// while e.null is reachable.
func (e *Executor) devNull() int {
	e.nullOnce.Do(func() {
		fd, err := unix.Open(os.DevNull, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err == nil {
			e.null = os.NewFile(uintptr(fd), os.DevNull)
			e.nullFD = fd
		} else {
			e.nullFD = -1
		}
	})
	return e.nullFD
}

// dirPrefix turns an attempt id into a safe prefix for os.MkdirTemp.
func dirPrefix(id string) string {
	clean := strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_', r == '.':
			return r
		}
		return '_'
	}, id)
	if len(clean) > 64 {
		clean = clean[:64]
	}
	return "attempt-" + clean + "-"
}

// wait waits for a's process, sweeps its group, reaps it, records the final
// status and announces it on Changed.
func (e *Executor) wait(a *attempt) {
	leaderGone := e.waitExit(a.ref.PID) == nil
	if leaderGone {
		a.mu.Lock()
		a.exited = true
		// The leader is an unreaped zombie, so the group id cannot have
		// been reused: kill what it left behind.
		_ = signalGroup(a.ref.PGID, syscall.SIGKILL)
		a.mu.Unlock()
	}
	st := exitStatus(reap(a.ref.PID))

	a.mu.Lock()
	a.exited = true
	if a.timer != nil {
		a.timer.Stop()
	}
	if a.escalate != nil {
		a.escalate.Stop()
	}
	switch a.reason {
	case executor.StateTimedOut:
		st.State = executor.StateTimedOut
		st.Message = "timed out after " + a.timeout.String()
	case executor.StateCanceled:
		st.State = executor.StateCanceled
		if st.Message != "" {
			st.Message = "canceled (" + st.Message + ")"
		} else {
			st.Message = "canceled"
		}
	}
	a.status = st
	a.mu.Unlock()
	e.changes.notify(a.id)
}

// waitExit blocks until child pid has terminated, leaving it unreaped (see
// waitChildExit): in waitid while fewer than Options.BlockingWaits others
// do, else without holding a thread.
func (e *Executor) waitExit(pid int) error {
	select {
	case e.blocking <- struct{}{}:
		defer func() { <-e.blocking }()
		e.waits.blocking.Add(1)
		return waitidNoReap(pid)
	default:
		e.waits.parked.Add(1)
		return waitChildExit(pid)
	}
}

// exitStatus converts the result of reap into a Status. A process killed by
// a signal reports 128+signal, as shells do.
func exitStatus(ws syscall.WaitStatus, err error) executor.Status {
	if err != nil {
		return executor.Status{State: executor.StateLost, Message: fmt.Sprintf("wait for process: %v", err)}
	}
	if ws.Signaled() {
		sig := ws.Signal()
		return executor.Status{
			State:    executor.StateExited,
			ExitCode: 128 + int(sig),
			Message:  "killed by signal " + unix.SignalName(sig),
		}
	}
	st := executor.Status{State: executor.StateExited, ExitCode: ws.ExitStatus()}
	if st.ExitCode != 0 {
		st.Message = fmt.Sprintf("exit status %d", st.ExitCode)
	}
	return st
}

// stop sends SIGTERM (and SIGCONT, so that stopped processes see it) to a's
// process group and schedules SIGKILL after the grace period. The first
// stop wins: a timeout after Cancel, or a Cancel after a timeout, changes
// nothing. Stopping an attempt whose process has exited is a no-op.
func (e *Executor) stop(a *attempt, reason executor.State) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.exited || a.reason != "" {
		return nil
	}
	a.reason = reason
	if err := signalGroup(a.ref.PGID, syscall.SIGTERM); err != nil {
		return fmt.Errorf("stop attempt %q: %w", a.id, err)
	}
	_ = signalGroup(a.ref.PGID, syscall.SIGCONT)
	a.escalate = time.AfterFunc(e.grace, func() {
		a.mu.Lock()
		defer a.mu.Unlock()
		if !a.exited {
			_ = signalGroup(a.ref.PGID, syscall.SIGKILL)
		}
	})
	return nil
}

// lookup returns the attempt started by this Executor that ref refers to, or
// nil.
func (e *Executor) lookup(ref handleRef) *attempt {
	e.mu.Lock()
	a := e.attempts[ref.Attempt]
	e.mu.Unlock()
	if a == nil {
		return nil
	}
	select {
	case <-a.ready:
	default:
		return nil
	}
	if a.startErr != nil || a.ref.PID != ref.PID || a.ref.Start != ref.Start {
		return nil
	}
	return a
}

// find decodes h and returns the attempt started by this Executor that it
// refers to, or nil. Handles returned by this Executor's own Start are
// found without decoding them.
func (e *Executor) find(h executor.Handle) (handleRef, *attempt, error) {
	e.mu.Lock()
	a := e.byHandle[h]
	e.mu.Unlock()
	if a != nil {
		return a.ref, a, nil
	}
	ref, err := parseHandle(h)
	if err != nil {
		return ref, nil, err
	}
	return ref, e.lookup(ref), nil
}

// Poll reports the attempt's status without blocking. For an attempt started
// by this Executor it returns the recorded status. For any other well-formed
// handle it inspects /proc: StateRunning while the process is alive,
// otherwise StateLost (StateCanceled if this Executor canceled it), since
// the exit status of a process that is not our child is unknown. A handle
// that does not decode is an error.
func (e *Executor) Poll(ctx context.Context, h executor.Handle) (executor.Status, error) {
	ref, a, err := e.find(h)
	if err != nil {
		return executor.Status{}, fmt.Errorf("poll: %w", err)
	}
	if a != nil {
		a.mu.Lock()
		defer a.mu.Unlock()
		return a.status, nil
	}
	return e.pollRecovered(ref), nil
}

// Cancel stops the attempt: SIGTERM to its process group, then SIGKILL after
// the grace period if the group is still there. It returns once the signal
// is sent; the final StateCanceled status follows through Changed and Poll.
// Canceling an attempt that has ended, or whose process is gone, is not an
// error. Cancel works on recovered handles too, as long as the handle's
// process (see Handles in the package documentation) is still alive.
func (e *Executor) Cancel(ctx context.Context, h executor.Handle) error {
	ref, a, err := e.find(h)
	if err != nil {
		return fmt.Errorf("cancel: %w", err)
	}
	if a != nil {
		return e.stop(a, executor.StateCanceled)
	}
	return e.cancelRecovered(ref)
}

// Logs opens the attempt's log file, which holds stdout and stderr
// interleaved in the order they were written. The file may still be growing.
func (e *Executor) Logs(ctx context.Context, h executor.Handle) (io.ReadCloser, error) {
	ref, _, err := e.find(h)
	if err != nil {
		return nil, fmt.Errorf("logs: %w", err)
	}
	f, err := os.Open(ref.Log)
	if err != nil {
		return nil, fmt.Errorf("logs of attempt %q: %w", ref.Attempt, err)
	}
	return f, nil
}

// Release forgets an attempt that has ended: its entry in the attempt table
// goes, so a server that runs attempts for months does not keep one for
// each of them. Releasing a running attempt, or a handle this Executor does
// not know, does nothing. Logs and Cancel still work on the handle
// afterwards (as for a handle from another process); Start with the same
// attempt id would start a new process.
func (e *Executor) Release(h executor.Handle) {
	ref, a, err := e.find(h)
	if err != nil {
		return
	}
	if a != nil {
		a.mu.Lock()
		ended := a.status.State != executor.StateRunning
		a.mu.Unlock()
		if !ended {
			return
		}
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if a != nil && e.attempts[a.id] == a {
		delete(e.attempts, a.id)
		delete(e.byHandle, a.handle)
	}
	if len(e.recovered) == 0 {
		// The usual case: no handle from elsewhere was ever polled. Do not
		// build a key for every attempt released.
		return
	}
	if r := e.recovered[ref.key()]; r != nil {
		r.mu.Lock()
		ended := r.final != nil
		r.mu.Unlock()
		if ended {
			delete(e.recovered, ref.key())
		}
	}
}

// Changed delivers the id of every attempt started by this Executor when it
// ends, and of recovered attempts when their process is seen to end (where
// pidfds are available). Ids that are delivered while a previous delivery of
// the same id is still queued coalesce. Senders never block: when the
// receiver falls behind, ids queue in memory.
func (e *Executor) Changed() <-chan string { return e.changes.ch }
