package local

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/weir-dev/weir/internal/executor"
	"github.com/weir-dev/weir/internal/executor/executortest"
)

// encodeRef encodes r, failing the test on error.
func encodeRef(t *testing.T, r handleRef) executor.Handle {
	t.Helper()
	h := r.encode()
	return h
}

// startForeign starts `sleep 30` outside any executor, in a process group of
// its own, with env appended to the test's environment (from which any
// attempt marker is removed). It is killed and reaped at the end of the test.
func startForeign(t *testing.T, env ...string) int {
	t.Helper()
	cmd := exec.Command("sleep", "30")
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, attemptEnv+"=") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	return cmd.Process.Pid
}

// alive reports whether pid is running (not gone, not a zombie).
func alive(pid int) bool { return !gone(pid) }

// stillRunningAfterGrace checks, after the executor's grace period (when an
// escalation to SIGKILL would have happened), that no process of pids was
// stopped.
func stillRunningAfterGrace(t *testing.T, ex *Executor, pids ...int) {
	t.Helper()
	time.Sleep(ex.grace + 200*time.Millisecond)
	for _, pid := range pids {
		if !alive(pid) {
			t.Errorf("process %d was killed by a Cancel of a handle that is not its own", pid)
		}
	}
}

// TestHandleIdentifiedByMarker covers handles as Start writes them (Start ==
// 0): after a restart they are recognised by the attempt marker in the
// process's environment, and a live pid without that exact marker is not
// the attempt's.
func TestHandleIdentifiedByMarker(t *testing.T) {
	t.Parallel()
	first := newTestExecutor(t)
	s := shSpec(t, "marker-ab", "sleep 30")
	h := mustStart(t, first, s)
	ref, err := parseHandle(h)
	if err != nil {
		t.Fatal(err)
	}
	if ref.Start != 0 {
		t.Fatalf("Start wrote start time %d, want 0", ref.Start)
	}

	// A handle for the same live pid but another attempt, whose id is a
	// prefix of the real one: not ours.
	other := ref
	other.Attempt = "marker-a"
	// The pid of a process without any marker, and of one with look-alike
	// entries that are not the marker.
	bare := startForeign(t)
	spoof := startForeign(t, "X"+attemptEnv+"=spoof", "SPOOF="+attemptEnv+"=spoof")
	cases := map[string]handleRef{
		"other attempt": other,
		"no marker":     {V: 1, Attempt: "marker-ab", PID: bare, PGID: bare, Log: ref.Log},
		"look-alikes":   {V: 1, Attempt: "spoof", PID: spoof, PGID: spoof, Log: ref.Log},
	}
	third := newTestExecutor(t)
	for name, r := range cases {
		hh := encodeRef(t, r)
		if st, err := third.Poll(context.Background(), hh); err != nil || st.State != executor.StateLost {
			t.Errorf("%s: Poll = %+v, %v; want lost", name, st, err)
		}
		if err := third.Cancel(context.Background(), hh); err != nil {
			t.Errorf("%s: Cancel: %v", name, err)
		}
	}
	stillRunningAfterGrace(t, third, ref.PID, bare, spoof)

	// A fresh executor (as after a restart) recognises the real handle.
	second := newTestExecutor(t)
	st, err := second.Poll(context.Background(), h)
	if err != nil || st.State != executor.StateRunning {
		t.Fatalf("recovered Poll = %+v, %v; want running", st, err)
	}
	if err := second.Cancel(context.Background(), h); err != nil {
		t.Fatalf("recovered Cancel: %v", err)
	}
	if st := waitEnded(t, second, h); st.State != executor.StateCanceled {
		t.Fatalf("after recovered Cancel: %+v, want canceled", st)
	}
	if st := executortest.Wait(t, first, h); st.State != executor.StateExited || st.ExitCode != 143 {
		t.Fatalf("original executor status = %+v, want exit 143", st)
	}
}

// TestMarkerHandleOfZombie: a process that has terminated can no longer show
// its environment, so a handle without a start time does not claim it.
func TestMarkerHandleOfZombie(t *testing.T) {
	t.Parallel()
	cmd := exec.Command("sh", "-c", "exit 0")
	cmd.Env = append(os.Environ(), attemptEnv+"=zombie")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Wait()
	pid := cmd.Process.Pid
	if err := waitidNoReap(pid); err != nil {
		t.Fatal(err)
	}
	ex := newTestExecutor(t)
	h := encodeRef(t, handleRef{V: 1, Attempt: "zombie", PID: pid, PGID: pid, Log: os.DevNull})
	st, err := ex.Poll(context.Background(), h)
	if err != nil || st.State != executor.StateLost || !strings.Contains(st.Message, "terminated") {
		t.Fatalf("Poll = %+v, %v; want lost, terminated", st, err)
	}
}

// TestOldStyleHandles: handles with a start time, as earlier versions wrote
// them, are still identified by it, and only by it.
func TestOldStyleHandles(t *testing.T) {
	t.Parallel()
	first := newTestExecutor(t)
	good := mustStart(t, first, shSpec(t, "old-good", "sleep 30"))
	wrong := mustStart(t, first, shSpec(t, "old-wrong", "sleep 30"))
	t.Cleanup(func() { _ = first.Cancel(context.Background(), wrong) })
	oldStyle := func(h executor.Handle, delta uint64) (executor.Handle, int) {
		ref, err := parseHandle(h)
		if err != nil {
			t.Fatal(err)
		}
		st, err := readProcStat(ref.PID)
		if err != nil {
			t.Fatal(err)
		}
		ref.Start = st.Start + delta
		return encodeRef(t, ref), ref.PID
	}
	goodOld, _ := oldStyle(good, 0)
	wrongOld, wrongPID := oldStyle(wrong, 1)
	// The start time alone identifies the process: a correct one is
	// accepted even without the marker in the environment.
	foreign := startForeign(t)
	fst, err := readProcStat(foreign)
	if err != nil {
		t.Fatal(err)
	}
	foreignOld := encodeRef(t, handleRef{V: 1, Attempt: "foreign", PID: foreign, PGID: foreign, Start: fst.Start, Log: os.DevNull})

	second := newTestExecutor(t)
	ctx := context.Background()
	if st, err := second.Poll(ctx, wrongOld); err != nil || st.State != executor.StateLost {
		t.Errorf("wrong start time: Poll = %+v, %v; want lost", st, err)
	}
	if err := second.Cancel(ctx, wrongOld); err != nil {
		t.Errorf("wrong start time: Cancel: %v", err)
	}
	stillRunningAfterGrace(t, second, wrongPID)
	if st, _ := first.Poll(ctx, wrong); st.State != executor.StateRunning {
		t.Errorf("attempt with a wrong-start handle: %+v, want running", st)
	}

	if st, err := second.Poll(ctx, foreignOld); err != nil || st.State != executor.StateRunning {
		t.Errorf("correct start time, no marker: Poll = %+v, %v; want running", st, err)
	}

	if st, err := second.Poll(ctx, goodOld); err != nil || st.State != executor.StateRunning {
		t.Fatalf("correct start time: Poll = %+v, %v; want running", st, err)
	}
	if err := second.Cancel(ctx, goodOld); err != nil {
		t.Fatalf("correct start time: Cancel: %v", err)
	}
	if st := waitEnded(t, second, goodOld); st.State != executor.StateCanceled {
		t.Fatalf("after Cancel: %+v, want canceled", st)
	}
	if st := executortest.Wait(t, first, good); st.State != executor.StateExited || st.ExitCode != 143 {
		t.Fatalf("original executor status = %+v, want exit 143", st)
	}
}

func TestHasMarker(t *testing.T) {
	t.Parallel()
	for env, want := range map[string]bool{
		"WEIR_ATTEMPT_ID=a1\x00":                     true,
		"A=1\x00WEIR_ATTEMPT_ID=a1\x00B=2\x00":       true,
		"A=1\x00WEIR_ATTEMPT_ID=a1":                  true, // no final NUL
		"WEIR_ATTEMPT_ID=a10\x00":                    false,
		"WEIR_ATTEMPT_ID=a\x00":                      false,
		"XWEIR_ATTEMPT_ID=a1\x00":                    false,
		"A=WEIR_ATTEMPT_ID=a1\x00":                   false,
		"A=WEIR_ATTEMPT_ID=a1\x00WEIR_ATTEMPT_ID=a1": true,
		"": false,
	} {
		if got := hasMarker([]byte(env), "a1"); got != want {
			t.Errorf("hasMarker(%q, a1) = %v, want %v", env, got, want)
		}
	}
}
