// Package executortest is the conformance suite for executor.Executor
// implementations. An implementation's tests call Run with a constructor;
// every subtest gets a fresh executor and runs in parallel with the others.
//
// Commands use only POSIX sh, sleep, echo, printf, pwd, cat and kill, so the
// suite runs wherever an executor can run a POSIX shell.
package executortest

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/weir-dev/weir/internal/executor"
)

// waitLimit bounds every wait for an attempt to end.
const waitLimit = 15 * time.Second

// Run runs the conformance suite against the executors newExecutor returns.
// newExecutor is called once per subtest; it should keep all state in
// t.TempDir() and register any cleanup with t.Cleanup.
func Run(t *testing.T, newExecutor func(t *testing.T) executor.Executor) {
	t.Helper()
	tests := []struct {
		name string
		fn   func(t *testing.T, ex executor.Executor)
	}{
		{"ExitZero", testExitZero},
		{"ExitNonZero", testExitNonZero},
		{"KilledBySignal", testKilledBySignal},
		{"LogsCaptureStdoutAndStderr", testLogs},
		{"EnvPassed", testEnv},
		{"DirHonoured", testDir},
		{"FreshDirWhenDirEmpty", testFreshDir},
		{"StartIdempotent", testStartIdempotent},
		{"ChangedDeliversEveryCompletion", testChangedMany},
		{"CancelKillsProcessGroup", testCancelGroup},
		{"CancelTwice", testCancelTwice},
		{"Timeout", testTimeout},
		{"CancelAfterExitIsNoOp", testCancelAfterExit},
		{"InvalidHandle", testInvalidHandle},
		{"InvalidSpec", testInvalidSpec},
		{"MissingExecutable", testMissingExecutable},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, newExecutor(t))
		})
	}
}

// spec returns a Spec running script with sh -c, logging to a file in a
// fresh temporary directory, which is also the working directory.
func spec(t *testing.T, id, script string) executor.Spec {
	t.Helper()
	dir := t.TempDir()
	return executor.Spec{
		AttemptID: id,
		Command:   []string{"sh", "-c", script},
		Dir:       dir,
		LogPath:   filepath.Join(dir, "log", id+".log"),
	}
}

// start starts s and fails the test on error.
func start(t *testing.T, ex executor.Executor, s executor.Spec) executor.Handle {
	t.Helper()
	h, err := ex.Start(context.Background(), s)
	if err != nil {
		t.Fatalf("Start(%s): %v", s.AttemptID, err)
	}
	if h == "" {
		t.Fatalf("Start(%s) returned an empty handle", s.AttemptID)
	}
	return h
}

// poll polls h and fails the test on error.
func poll(t *testing.T, ex executor.Executor, h executor.Handle) executor.Status {
	t.Helper()
	st, err := ex.Poll(context.Background(), h)
	if err != nil {
		t.Fatalf("Poll: %v", err)
	}
	return st
}

// Wait returns h's status once it is no longer running, polling whenever
// Changed delivers an id (of any attempt). It relies on the executor
// delivering the completion on Changed and fails the test if the attempt is
// still running after 15 seconds. Deliveries for other attempts are consumed.
func Wait(t *testing.T, ex executor.Executor, h executor.Handle) executor.Status {
	t.Helper()
	deadline := time.NewTimer(waitLimit)
	defer deadline.Stop()
	for {
		if st := poll(t, ex, h); st.State != executor.StateRunning {
			return st
		}
		select {
		case <-ex.Changed():
		case <-deadline.C:
			t.Fatalf("attempt still running after %v", waitLimit)
		}
	}
}

// logs reads h's complete log.
func logs(t *testing.T, ex executor.Executor, h executor.Handle) string {
	t.Helper()
	rc, err := ex.Logs(context.Background(), h)
	if err != nil {
		t.Fatalf("Logs: %v", err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("read logs: %v", err)
	}
	return string(b)
}

// waitFile waits until path exists.
func waitFile(t *testing.T, path string) {
	t.Helper()
	for deadline := time.Now().Add(waitLimit); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if _, err := os.Stat(path); err == nil {
			return
		}
	}
	t.Fatalf("%s did not appear within %v", path, waitLimit)
}

func wantStatus(t *testing.T, got executor.Status, state executor.State, code int) {
	t.Helper()
	if got.State != state || got.ExitCode != code {
		t.Fatalf("status = %+v, want state %q exit code %d", got, state, code)
	}
}

func testExitZero(t *testing.T, ex executor.Executor) {
	h := start(t, ex, spec(t, "ok", "exit 0"))
	wantStatus(t, Wait(t, ex, h), executor.StateExited, 0)
}

func testExitNonZero(t *testing.T, ex executor.Executor) {
	h := start(t, ex, spec(t, "fail", "exit 3"))
	st := Wait(t, ex, h)
	wantStatus(t, st, executor.StateExited, 3)
	if st.Message == "" {
		t.Errorf("non-zero exit has no Message: %+v", st)
	}
}

func testKilledBySignal(t *testing.T, ex executor.Executor) {
	h := start(t, ex, spec(t, "sig", "kill -KILL $$"))
	st := Wait(t, ex, h)
	wantStatus(t, st, executor.StateExited, 128+9)
	if st.Message == "" {
		t.Errorf("death by signal has no Message: %+v", st)
	}
}

func testLogs(t *testing.T, ex executor.Executor) {
	s := spec(t, "logs", "echo to-stdout; echo to-stderr >&2; echo again")
	h := start(t, ex, s)
	wantStatus(t, Wait(t, ex, h), executor.StateExited, 0)
	got := logs(t, ex, h)
	for _, want := range []string{"to-stdout\n", "to-stderr\n", "again\n"} {
		if !strings.Contains(got, want) {
			t.Errorf("logs %q lack %q", got, want)
		}
	}
	if i, j := strings.Index(got, "to-stdout"), strings.Index(got, "again"); i > j {
		t.Errorf("stdout lines out of order in %q", got)
	}
}

func testEnv(t *testing.T, ex executor.Executor) {
	s := spec(t, "env", `printf '%s|%s' "$WEIR_CONFORMANCE_A" "$WEIR_CONFORMANCE_B"; test -n "$PATH"`)
	s.Env = []string{"WEIR_CONFORMANCE_A=alpha", "WEIR_CONFORMANCE_B=with space=and equals"}
	h := start(t, ex, s)
	wantStatus(t, Wait(t, ex, h), executor.StateExited, 0)
	if got, want := logs(t, ex, h), "alpha|with space=and equals"; got != want {
		t.Errorf("logs = %q, want %q", got, want)
	}
}

func testDir(t *testing.T, ex executor.Executor) {
	s := spec(t, "dir", "pwd > where; echo here > marker")
	s.Dir = filepath.Join(s.Dir, "not", "yet", "there")
	h := start(t, ex, s)
	wantStatus(t, Wait(t, ex, h), executor.StateExited, 0)
	if _, err := os.Stat(filepath.Join(s.Dir, "marker")); err != nil {
		t.Fatalf("command did not run in Spec.Dir: %v", err)
	}
	b, err := os.ReadFile(filepath.Join(s.Dir, "where"))
	if err != nil {
		t.Fatal(err)
	}
	want, err := filepath.EvalSymlinks(s.Dir)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := filepath.EvalSymlinks(strings.TrimSpace(string(b))); got != want {
		t.Errorf("pwd = %q, want %q", got, want)
	}
}

func testFreshDir(t *testing.T, ex executor.Executor) {
	s1 := spec(t, "fresh-1", "pwd; echo one > own-file")
	s2 := spec(t, "fresh-2", "pwd; test ! -e own-file")
	s1.Dir, s2.Dir = "", ""
	h1 := start(t, ex, s1)
	wantStatus(t, Wait(t, ex, h1), executor.StateExited, 0)
	h2 := start(t, ex, s2)
	wantStatus(t, Wait(t, ex, h2), executor.StateExited, 0)
	d1, d2 := strings.TrimSpace(logs(t, ex, h1)), strings.TrimSpace(logs(t, ex, h2))
	if d1 == "" || d1 == d2 {
		t.Errorf("fresh working directories %q and %q are not distinct", d1, d2)
	}
}

func testStartIdempotent(t *testing.T, ex executor.Executor) {
	s := spec(t, "once", "echo started >> runs; sleep 0.2")
	const n = 8
	handles := make([]executor.Handle, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { handles[i], errs[i] = ex.Start(context.Background(), s) })
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("Start #%d: %v", i, errs[i])
		}
		if handles[i] != handles[0] {
			t.Fatalf("Start #%d returned handle %q, want %q", i, handles[i], handles[0])
		}
	}
	wantStatus(t, Wait(t, ex, handles[0]), executor.StateExited, 0)
	// Starting an attempt that has already ended must not rerun it either.
	if h := start(t, ex, s); h != handles[0] {
		t.Fatalf("Start after exit returned handle %q, want %q", h, handles[0])
	}
	wantStatus(t, poll(t, ex, handles[0]), executor.StateExited, 0)
	b, err := os.ReadFile(filepath.Join(s.Dir, "runs"))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Count(string(b), "started\n"); got != 1 {
		t.Fatalf("process ran %d times, want 1", got)
	}
}

func testChangedMany(t *testing.T, ex executor.Executor) {
	const n = 50
	handles := make(map[string]executor.Handle, n)
	codes := make(map[string]int, n)
	for i := range n {
		id := fmt.Sprintf("many-%02d", i)
		codes[id] = i % 4
		handles[id] = start(t, ex, spec(t, id, fmt.Sprintf("exit %d", i%4)))
	}
	// Only Changed drives progress here: every completion must be delivered.
	deadline := time.NewTimer(waitLimit)
	defer deadline.Stop()
	for len(handles) > 0 {
		select {
		case id := <-ex.Changed():
			h, ok := handles[id]
			if !ok {
				continue // a repeated delivery
			}
			st := poll(t, ex, h)
			if st.State == executor.StateRunning {
				continue
			}
			wantStatus(t, st, executor.StateExited, codes[id])
			delete(handles, id)
		case <-deadline.C:
			t.Fatalf("%d completions not delivered on Changed within %v", len(handles), waitLimit)
		}
	}
}

// groupScript starts a child shell whose own child, a grandchild of the
// attempt's process, writes "leaked" after delay seconds unless it is killed.
func groupScript(delay string) string {
	return fmt.Sprintf(`sh -c '(sleep %s; echo leaked > leaked) & echo ok > ready; wait' &
sleep 30`, delay)
}

func testCancelGroup(t *testing.T, ex executor.Executor) {
	s := spec(t, "cancel", groupScript("1"))
	h := start(t, ex, s)
	waitFile(t, filepath.Join(s.Dir, "ready"))
	ready := time.Now()
	if st := poll(t, ex, h); st.State != executor.StateRunning {
		t.Fatalf("before Cancel: status = %+v, want running", st)
	}
	if err := ex.Cancel(context.Background(), h); err != nil {
		t.Fatalf("Cancel: %v", err)
	}
	st := Wait(t, ex, h)
	if st.State != executor.StateCanceled {
		t.Fatalf("after Cancel: status = %+v, want canceled", st)
	}
	// Give a surviving grandchild the time to prove it survived.
	time.Sleep(time.Until(ready.Add(1500 * time.Millisecond)))
	if _, err := os.Stat(filepath.Join(s.Dir, "leaked")); err == nil {
		t.Fatal("a grandchild survived Cancel")
	}
	if st := poll(t, ex, h); st.State != executor.StateCanceled {
		t.Fatalf("later Poll: status = %+v, want canceled", st)
	}
}

func testCancelTwice(t *testing.T, ex executor.Executor) {
	h := start(t, ex, spec(t, "twice", "sleep 30"))
	for i := range 2 {
		if err := ex.Cancel(context.Background(), h); err != nil {
			t.Fatalf("Cancel #%d: %v", i+1, err)
		}
	}
	if st := Wait(t, ex, h); st.State != executor.StateCanceled {
		t.Fatalf("status = %+v, want canceled", st)
	}
	if err := ex.Cancel(context.Background(), h); err != nil {
		t.Fatalf("Cancel after cancellation: %v", err)
	}
}

func testTimeout(t *testing.T, ex executor.Executor) {
	s := spec(t, "timeout", groupScript("1"))
	s.Timeout = 300 * time.Millisecond
	began := time.Now()
	h := start(t, ex, s)
	st := Wait(t, ex, h)
	if st.State != executor.StateTimedOut {
		t.Fatalf("status = %+v, want timedout", st)
	}
	if !strings.Contains(st.Message, "timed out") {
		t.Errorf("Message = %q, want it to say it timed out", st.Message)
	}
	if el := time.Since(began); el < s.Timeout {
		t.Errorf("timed out after %v, before the %v timeout", el, s.Timeout)
	}
	time.Sleep(time.Until(began.Add(1500 * time.Millisecond)))
	if _, err := os.Stat(filepath.Join(s.Dir, "leaked")); err == nil {
		t.Fatal("a grandchild survived the timeout")
	}
}

func testCancelAfterExit(t *testing.T, ex executor.Executor) {
	h := start(t, ex, spec(t, "done", "exit 0"))
	wantStatus(t, Wait(t, ex, h), executor.StateExited, 0)
	if err := ex.Cancel(context.Background(), h); err != nil {
		t.Fatalf("Cancel after exit: %v", err)
	}
	wantStatus(t, poll(t, ex, h), executor.StateExited, 0)
}

func testInvalidHandle(t *testing.T, ex executor.Executor) {
	ctx := context.Background()
	for _, h := range []executor.Handle{"", "\x00not a handle\xff{", "{"} {
		if st, err := ex.Poll(ctx, h); err == nil {
			t.Errorf("Poll(%q) = %+v, want an error", h, st)
		}
		if err := ex.Cancel(ctx, h); err == nil {
			t.Errorf("Cancel(%q): want an error", h)
		}
		if rc, err := ex.Logs(ctx, h); err == nil {
			rc.Close()
			t.Errorf("Logs(%q): want an error", h)
		}
	}
}

func testInvalidSpec(t *testing.T, ex executor.Executor) {
	s := spec(t, "empty", "exit 0")
	s.Command = nil
	if h, err := ex.Start(context.Background(), s); err == nil {
		t.Errorf("Start with an empty command = %q, want an error", h)
	}
	s = spec(t, "", "exit 0")
	if h, err := ex.Start(context.Background(), s); err == nil {
		t.Errorf("Start with an empty attempt id = %q, want an error", h)
	}
}

// testMissingExecutable accepts either way of failing: Start returning an
// error, or an attempt that ends with a non-zero exit code.
func testMissingExecutable(t *testing.T, ex executor.Executor) {
	s := spec(t, "missing", "")
	s.Command = []string{"weir-conformance-no-such-executable", "arg"}
	h, err := ex.Start(context.Background(), s)
	if err != nil {
		if !strings.Contains(err.Error(), s.Command[0]) {
			t.Errorf("Start error %q does not name the executable", err)
		}
		return
	}
	st := Wait(t, ex, h)
	if st.State == executor.StateExited && st.ExitCode == 0 {
		t.Fatalf("status = %+v, want a failure", st)
	}
}
