package local

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/weir-dev/weir/internal/executor"
	"github.com/weir-dev/weir/internal/executor/executortest"
)

func newTestExecutor(t *testing.T) *Executor {
	t.Helper()
	return New(Options{WorkRoot: t.TempDir(), KillGrace: 300 * time.Millisecond})
}

func TestConformance(t *testing.T) {
	executortest.Run(t, func(t *testing.T) executor.Executor { return newTestExecutor(t) })
}

// shSpec returns a spec running script with sh -c in a fresh directory.
func shSpec(t *testing.T, id, script string) executor.Spec {
	t.Helper()
	dir := t.TempDir()
	return executor.Spec{
		AttemptID: id,
		Command:   []string{"sh", "-c", script},
		Dir:       dir,
		LogPath:   filepath.Join(dir, id+".log"),
	}
}

func mustStart(t *testing.T, ex *Executor, s executor.Spec) executor.Handle {
	t.Helper()
	h, err := ex.Start(context.Background(), s)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	return h
}

// waitEnded waits until Poll reports something other than running. Unlike
// executortest.Wait it also re-polls on a timer, so it does not depend on
// Changed deliveries for recovered handles.
func waitEnded(t *testing.T, ex *Executor, h executor.Handle) executor.Status {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		st, err := ex.Poll(context.Background(), h)
		if err != nil {
			t.Fatalf("Poll: %v", err)
		}
		if st.State != executor.StateRunning {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatal("attempt still running after 10s")
		}
		select {
		case <-ex.Changed():
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// readPID reads a pid written by a test script, waiting for the file.
func readPID(t *testing.T, path string) int {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		b, err := os.ReadFile(path)
		if err == nil && strings.HasSuffix(string(b), "\n") {
			pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
			if err != nil {
				t.Fatalf("pid file %s: %v", path, err)
			}
			return pid
		}
	}
	t.Fatalf("%s did not appear", path)
	return 0
}

// gone reports whether pid has terminated (absent, or a zombie nobody reaped).
func gone(pid int) bool {
	st, err := readProcStat(pid)
	return err != nil || st.dead()
}

// waitGone waits briefly for pid to terminate.
func waitGone(t *testing.T, pid int, what string) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if gone(pid) {
			return
		}
	}
	t.Fatalf("%s (pid %d) is still running", what, pid)
}

func TestHandleFormat(t *testing.T) {
	t.Parallel()
	ex := newTestExecutor(t)
	s := shSpec(t, "fmt", "exit 0")
	h := mustStart(t, ex, s)
	var m map[string]any
	if err := json.Unmarshal([]byte(h), &m); err != nil {
		t.Fatalf("handle %q is not JSON: %v", h, err)
	}
	for _, k := range []string{"v", "attempt", "pid", "pgid", "start", "log"} {
		if _, ok := m[k]; !ok {
			t.Errorf("handle %s lacks %q", h, k)
		}
	}
	ref, err := parseHandle(h)
	if err != nil {
		t.Fatalf("parseHandle(%s): %v", h, err)
	}
	if ref.Attempt != "fmt" || ref.PGID != ref.PID || ref.Start != 0 || ref.Log != s.LogPath {
		t.Errorf("handle fields = %+v", ref)
	}
	if strings.ContainsAny(string(h), " \n") {
		t.Errorf("handle %q is not compact", h)
	}
	executortest.Wait(t, ex, h)
}

func TestParseHandleRejects(t *testing.T) {
	t.Parallel()
	good := handleRef{V: 1, Attempt: "a", PID: 4242, PGID: 4242, Start: 7, Log: "/x.log"}
	enc := func(r handleRef) executor.Handle {
		h := r.encode()
		return h
	}
	if _, err := parseHandle(enc(good)); err != nil {
		t.Fatalf("good handle rejected: %v", err)
	}
	bad := map[string]executor.Handle{
		"empty":    "",
		"garbage":  "nope",
		"trailing": enc(good) + "{}",
	}
	for name, mut := range map[string]func(*handleRef){
		"version": func(r *handleRef) { r.V = 2 },
		"attempt": func(r *handleRef) { r.Attempt = "" },
		"pid":     func(r *handleRef) { r.PID = 1 },
		"pgid0":   func(r *handleRef) { r.PGID = 0 },
		"pgid1":   func(r *handleRef) { r.PGID = 1 },
		"pgidneg": func(r *handleRef) { r.PGID = -5 },
		"log":     func(r *handleRef) { r.Log = "" },
	} {
		r := good
		mut(&r)
		bad[name] = enc(r)
	}
	for name, h := range bad {
		if _, err := parseHandle(h); !errors.Is(err, errBadHandle) {
			t.Errorf("%s: parseHandle(%q) error = %v, want errBadHandle", name, h, err)
		}
	}
}

func TestStartMissingExecutable(t *testing.T) {
	t.Parallel()
	ex := newTestExecutor(t)
	s := shSpec(t, "nosuch-attempt", "")
	s.Command = []string{"weir-no-such-executable"}
	_, err := ex.Start(context.Background(), s)
	if !errors.Is(err, exec.ErrNotFound) {
		t.Fatalf("Start error = %v, want exec.ErrNotFound", err)
	}
	for _, want := range []string{`"nosuch-attempt"`, `"weir-no-such-executable"`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %s", err, want)
		}
	}
	// A failed start is forgotten: the same id can be started again.
	s.Command = []string{"sh", "-c", "exit 4"}
	h := mustStart(t, ex, s)
	if st := executortest.Wait(t, ex, h); st.State != executor.StateExited || st.ExitCode != 4 {
		t.Fatalf("status = %+v, want exit 4", st)
	}
}

func TestPathFromSpecEnv(t *testing.T) {
	t.Parallel()
	ex := newTestExecutor(t)
	bin := t.TempDir()
	if err := os.WriteFile(filepath.Join(bin, "weir-test-tool"), []byte("#!/bin/sh\necho tool ran\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	s := shSpec(t, "path", "")
	s.Command = []string{"weir-test-tool"}
	s.Env = []string{"PATH=" + bin + ":" + os.Getenv("PATH")}
	h := mustStart(t, ex, s)
	if st := executortest.Wait(t, ex, h); st.State != executor.StateExited || st.ExitCode != 0 {
		t.Fatalf("status = %+v", st)
	}
	b, _ := os.ReadFile(s.LogPath)
	if string(b) != "tool ran\n" {
		t.Errorf("log = %q", b)
	}
}

func TestLogAppends(t *testing.T) {
	t.Parallel()
	ex := newTestExecutor(t)
	s := shSpec(t, "append", "echo second")
	if err := os.WriteFile(s.LogPath, []byte("first\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	h := mustStart(t, ex, s)
	executortest.Wait(t, ex, h)
	if b, _ := os.ReadFile(s.LogPath); string(b) != "first\nsecond\n" {
		t.Errorf("log = %q, want the earlier content kept", b)
	}
}

func TestSignalMessage(t *testing.T) {
	t.Parallel()
	ex := newTestExecutor(t)
	h := mustStart(t, ex, shSpec(t, "sig", "kill -TERM $$"))
	st := executortest.Wait(t, ex, h)
	if st.State != executor.StateExited || st.ExitCode != 143 || !strings.Contains(st.Message, "SIGTERM") {
		t.Fatalf("status = %+v, want exit 143 naming SIGTERM", st)
	}
}

// TestCancelEscalatesToKill covers a group that ignores SIGTERM.
func TestCancelEscalatesToKill(t *testing.T) {
	t.Parallel()
	ex := newTestExecutor(t)
	s := shSpec(t, "stubborn", `trap "" TERM; sleep 30 & echo $! > child.pid; wait`)
	h := mustStart(t, ex, s)
	child := readPID(t, filepath.Join(s.Dir, "child.pid"))
	began := time.Now()
	if err := ex.Cancel(context.Background(), h); err != nil {
		t.Fatal(err)
	}
	st := waitEnded(t, ex, h)
	if st.State != executor.StateCanceled || st.ExitCode != 137 {
		t.Fatalf("status = %+v, want canceled with exit code 137", st)
	}
	if el := time.Since(began); el < ex.grace {
		t.Errorf("killed after %v, before the %v grace period", el, ex.grace)
	}
	waitGone(t, child, "child ignoring SIGTERM")
}

// TestCancelKillsGrandchildPID checks by pid, not by side effect, that a
// grandchild in the group dies on Cancel.
func TestCancelKillsGrandchildPID(t *testing.T) {
	t.Parallel()
	ex := newTestExecutor(t)
	s := shSpec(t, "gc", `sh -c 'sleep 30 & echo $! > gc.pid; wait' & sleep 30`)
	h := mustStart(t, ex, s)
	gc := readPID(t, filepath.Join(s.Dir, "gc.pid"))
	if err := ex.Cancel(context.Background(), h); err != nil {
		t.Fatal(err)
	}
	if st := executortest.Wait(t, ex, h); st.State != executor.StateCanceled {
		t.Fatalf("status = %+v", st)
	}
	waitGone(t, gc, "grandchild")
}

// TestLeaderExitKillsGroup checks that processes left behind by an attempt
// that exits normally do not outlive it.
func TestLeaderExitKillsGroup(t *testing.T) {
	t.Parallel()
	ex := newTestExecutor(t)
	s := shSpec(t, "leftover", `sleep 30 & echo $! > bg.pid; exit 0`)
	h := mustStart(t, ex, s)
	if st := executortest.Wait(t, ex, h); st.State != executor.StateExited || st.ExitCode != 0 {
		t.Fatalf("status = %+v", st)
	}
	waitGone(t, readPID(t, filepath.Join(s.Dir, "bg.pid")), "background child")
}

func TestRecoverRunningAndCancel(t *testing.T) {
	t.Parallel()
	first := newTestExecutor(t)
	s := shSpec(t, "survivor", `sleep 30 & echo $! > child.pid; wait`)
	h := mustStart(t, first, s)
	child := readPID(t, filepath.Join(s.Dir, "child.pid"))
	ref, _ := parseHandle(h)

	second := newTestExecutor(t) // as after a restart of weir
	st, err := second.Poll(context.Background(), h)
	if err != nil || st.State != executor.StateRunning {
		t.Fatalf("recovered Poll = %+v, %v; want running", st, err)
	}
	rc, err := second.Logs(context.Background(), h)
	if err != nil {
		t.Fatalf("recovered Logs: %v", err)
	}
	rc.Close()
	if err := second.Cancel(context.Background(), h); err != nil {
		t.Fatalf("recovered Cancel: %v", err)
	}
	st = waitEnded(t, second, h)
	if st.State != executor.StateCanceled {
		t.Fatalf("after recovered Cancel: %+v, want canceled", st)
	}
	waitGone(t, ref.PID, "recovered leader")
	waitGone(t, child, "recovered child")
	if err := second.Cancel(context.Background(), h); err != nil {
		t.Fatalf("second recovered Cancel: %v", err)
	}
	// The original executor, still the parent, saw the SIGTERM death.
	if st := executortest.Wait(t, first, h); st.State != executor.StateExited || st.ExitCode != 143 {
		t.Fatalf("original executor status = %+v, want exit 143", st)
	}
}

func TestRecoverDeliversChanged(t *testing.T) {
	t.Parallel()
	if f, err := openPidfd(os.Getpid()); err != nil {
		t.Skipf("no pidfd support: %v", err)
	} else {
		f.Close()
	}
	first := newTestExecutor(t)
	h := mustStart(t, first, shSpec(t, "short", "sleep 0.3"))
	second := newTestExecutor(t)
	if st, err := second.Poll(context.Background(), h); err != nil || st.State != executor.StateRunning {
		t.Fatalf("recovered Poll = %+v, %v; want running", st, err)
	}
	select {
	case id := <-second.Changed():
		if id != "short" {
			t.Fatalf("Changed delivered %q", id)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no Changed delivery for the recovered attempt")
	}
	// Its parent may not have reaped it yet; a zombie counts as ended.
	if st := waitEnded(t, second, h); st.State != executor.StateLost {
		t.Fatalf("status = %+v, want lost", st)
	}
}

func TestRecoverLost(t *testing.T) {
	t.Parallel()
	first := newTestExecutor(t)
	h := mustStart(t, first, shSpec(t, "gone", "exit 0"))
	executortest.Wait(t, first, h)
	ref, _ := parseHandle(h)

	second := newTestExecutor(t)
	self, err := readProcStat(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	reused := handleRef{V: 1, Attempt: "reused", PID: os.Getpid(), PGID: 999999, Start: self.Start + 1, Log: ref.Log}
	rebooted := handleRef{V: 1, Attempt: "rebooted", PID: os.Getpid(), PGID: 999999, Start: self.Start, Boot: "another-boot", Log: ref.Log}
	cases := map[string]handleRef{"dead pid": ref, "reused pid": reused}
	if bootID() != "" {
		cases["rebooted"] = rebooted
	}
	for name, r := range cases {
		hh := r.encode()
		st, err := second.Poll(context.Background(), hh)
		if err != nil || st.State != executor.StateLost || st.Message == "" {
			t.Errorf("%s: Poll = %+v, %v; want lost with a message", name, st, err)
		}
		if err := second.Cancel(context.Background(), hh); err != nil {
			t.Errorf("%s: Cancel: %v", name, err)
		}
		if st, _ := second.Poll(context.Background(), hh); st.State != executor.StateLost {
			t.Errorf("%s: Poll after Cancel = %+v, want still lost", name, st)
		}
	}
}

func TestNotifierNeverBlocks(t *testing.T) {
	t.Parallel()
	n := newNotifier()
	const total = 3 * changedBuffer
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range total {
			n.notify(fmt.Sprint(i))
		}
		n.notify("0") // may coalesce with a queued "0" or arrive again
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("notify blocked without a receiver")
	}
	seen := make(map[string]bool)
	timeout := time.After(5 * time.Second)
	for len(seen) < total {
		select {
		case id := <-n.ch:
			seen[id] = true
		case <-timeout:
			t.Fatalf("received %d of %d ids", len(seen), total)
		}
	}
}

// TestWaitidFallback exercises the wait used when pidfds are unavailable: it
// must return on exit without reaping the child.
func TestWaitidFallback(t *testing.T) {
	t.Parallel()
	cmd := exec.Command("sh", "-c", "exit 5")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	if err := waitidNoReap(cmd.Process.Pid); err != nil {
		t.Fatalf("waitidNoReap: %v", err)
	}
	if st, err := readProcStat(cmd.Process.Pid); err != nil || !st.dead() {
		t.Fatalf("child after waitidNoReap: %+v, %v; want an unreaped zombie", st, err)
	}
	var ee *exec.ExitError
	if err := cmd.Wait(); !errors.As(err, &ee) || ee.ExitCode() != 5 {
		t.Fatalf("Wait = %v, want exit status 5", err)
	}
}

// BenchmarkStartToCompletion measures the executor's per-attempt overhead
// for a process that does nothing: Start, then the Changed delivery.
func BenchmarkStartToCompletion(b *testing.B) {
	ex := New(Options{WorkRoot: b.TempDir()})
	dir := b.TempDir()
	truePath, err := exec.LookPath("true")
	if err != nil {
		b.Skip("no true(1)")
	}
	ctx := context.Background()
	i := 0
	for b.Loop() {
		i++
		id := "bench-" + strconv.Itoa(i)
		h, err := ex.Start(ctx, executor.Spec{AttemptID: id, Command: []string{truePath}, Dir: dir, LogPath: filepath.Join(dir, "bench.log")})
		if err != nil {
			b.Fatal(err)
		}
		if got := <-ex.Changed(); got != id {
			b.Fatalf("Changed delivered %q, want %q", got, id)
		}
		if st, _ := ex.Poll(ctx, h); st.State != executor.StateExited {
			b.Fatalf("status %+v", st)
		}
	}
}

func TestFindAttemptWithoutHandle(t *testing.T) {
	dir := t.TempDir()
	e := New(Options{WorkRoot: dir})
	h, err := e.Start(context.Background(), executor.Spec{AttemptID: "lost-handle", Command: []string{"sleep", "30"}, LogPath: dir + "/log"})
	if err != nil {
		t.Fatal(err)
	}
	// Another executor (a restarted weir) finds it by attempt id alone.
	other := New(Options{WorkRoot: dir})
	found, ok, err := other.Find(context.Background(), "lost-handle")
	if err != nil || !ok {
		t.Fatalf("Find = %v %v", ok, err)
	}
	if st, err := other.Poll(context.Background(), found); err != nil || st.State != executor.StateRunning {
		t.Fatalf("found handle polls %v %v", st, err)
	}
	if err := other.Cancel(context.Background(), found); err != nil {
		t.Fatal(err)
	}
	if st := executortest.Wait(t, e, h); st.State == executor.StateRunning {
		t.Fatal("process survived the cancel")
	}
	// The waiter reaps the process just after reporting its end.
	deadline := time.Now().Add(5 * time.Second)
	for {
		h, ok, _ := other.Find(context.Background(), "lost-handle")
		if !ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("found a process after it ended: %s", h)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if _, ok, _ := other.Find(context.Background(), "never-started"); ok {
		t.Error("found a process for an attempt that never started")
	}
}

func TestReleaseForgetsEndedAttempts(t *testing.T) {
	ex := newTestExecutor(t)
	ctx := context.Background()
	running := mustStart(t, ex, shSpec(t, "long", "sleep 30"))
	t.Cleanup(func() { _ = ex.Cancel(ctx, running) })
	done := mustStart(t, ex, shSpec(t, "short", "echo hello"))
	if st := waitEnded(t, ex, done); st.State != executor.StateExited {
		t.Fatalf("short attempt: %+v", st)
	}

	ex.Release(running) // still running: kept
	ex.Release(done)
	ex.Release("not a handle")
	ex.mu.Lock()
	_, keptRunning := ex.attempts["long"]
	_, keptDone := ex.attempts["short"]
	nHandles := len(ex.byHandle)
	ex.mu.Unlock()
	if !keptRunning || keptDone || nHandles != 1 {
		t.Fatalf("after Release: running kept %v, ended kept %v, %d handles indexed; want true, false, 1", keptRunning, keptDone, nHandles)
	}
	if st, _ := ex.Poll(ctx, running); st.State != executor.StateRunning {
		t.Errorf("running attempt after a Release: %+v", st)
	}
	// The log of a released attempt can still be read.
	rc, err := ex.Logs(ctx, done)
	if err != nil {
		t.Fatalf("Logs after Release: %v", err)
	}
	defer rc.Close()
	b := new(strings.Builder)
	if _, err := io.Copy(b, rc); err != nil || b.String() != "hello\n" {
		t.Errorf("log after Release = %q, %v", b.String(), err)
	}
}
