package local

import (
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/weir-dev/weir/internal/executor"
	"github.com/weir-dev/weir/internal/executor/executortest"
)

// TestSpecEnvOverridesInherited checks that a Spec.Env entry replaces a
// variable of the weir process's environment, and the attempt marker any
// other, so that each appears once: getenv(3) returns the first entry of a
// name, a shell the last. Not parallel: it sets the test process's
// environment.
func TestSpecEnvOverridesInherited(t *testing.T) {
	t.Setenv("WEIR_TEST_VAR", "inherited")
	t.Setenv(attemptEnv, "outer")
	ex := newTestExecutor(t)
	// printenv uses getenv; /proc/self/environ shows every entry.
	script := `printenv WEIR_TEST_VAR WEIR_TEST_DUP ` + attemptEnv + `
tr '\0' '\n' < /proc/$$/environ | grep -c -e '^WEIR_TEST_VAR=' -e '^WEIR_TEST_DUP=' -e '^` + attemptEnv + `='`
	run := func(id string) string {
		s := shSpec(t, id, script)
		s.Env = []string{"WEIR_TEST_VAR=spec", "WEIR_TEST_DUP=1", attemptEnv + "=spoof", "WEIR_TEST_DUP=2"}
		h := mustStart(t, ex, s)
		if st := executortest.Wait(t, ex, h); st.State != executor.StateExited || st.ExitCode != 0 {
			t.Fatalf("status = %+v", st)
		}
		b, err := os.ReadFile(s.LogPath)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	if got, want := run("env-1"), "spec\n2\nenv-1\n3\n"; got != want {
		t.Errorf("child environment:\n%s\nwant\n%s", got, want)
	}
	// The weir process's environment is read at every start, as os/exec
	// does: a change after New is seen, and an override still wins.
	t.Setenv("WEIR_TEST_VAR", "changed")
	t.Setenv("WEIR_TEST_DUP", "changed")
	if got, want := run("env-2"), "spec\n2\nenv-2\n3\n"; got != want {
		t.Errorf("child environment after Setenv:\n%s\nwant\n%s", got, want)
	}
	os.Unsetenv("WEIR_TEST_VAR")
	s := shSpec(t, "env-3", `echo "${WEIR_TEST_VAR-unset} $WEIR_TEST_DUP"`)
	h := mustStart(t, ex, s)
	executortest.Wait(t, ex, h)
	if b, _ := os.ReadFile(s.LogPath); string(b) != "unset changed\n" {
		t.Errorf("after Unsetenv and Setenv: log = %q", b)
	}
}

// TestChildEnvMatchesExec compares the environment a child gets, entry by
// entry and in order, with what exec.Cmd gives it for the same list,
// including entries os/exec treats specially.
func TestChildEnvMatchesExec(t *testing.T) {
	t.Setenv("WEIR_TEST_VAR", "inherited")
	t.Setenv("WEIR_TEST_KEEP", "kept")
	t.Setenv(attemptEnv, "outer")
	cat, err := exec.LookPath("cat")
	if err != nil {
		t.Skip("no cat")
	}
	extras := [][]string{
		nil,
		{"WEIR_TEST_VAR=spec"},
		{"A=1", "", "NOEQUALS", "B=2", "A=3", "NOEQUALS", "=weird=1", "=x", "=weird=2", "=y", "WEIR_TEST_VAR=", attemptEnv + "=spoof", "PATH=" + os.Getenv("PATH")},
	}
	var many []string
	for i := range 40 {
		many = append(many, "K"+strconv.Itoa(i%25)+"="+strconv.Itoa(i))
	}
	extras = append(extras, append(many, "WEIR_TEST_VAR=many", "NOEQUALS"))
	ex := newTestExecutor(t)
	for i, extra := range extras {
		id := "envcmp-" + strconv.Itoa(i)
		s := shSpec(t, id, "")
		s.Command = []string{cat, "/proc/self/environ"}
		s.Env = extra
		h := mustStart(t, ex, s)
		if st := executortest.Wait(t, ex, h); st.State != executor.StateExited || st.ExitCode != 0 {
			t.Fatalf("%s: status = %+v", id, st)
		}
		got, err := os.ReadFile(s.LogPath)
		if err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(cat, "/proc/self/environ")
		cmd.Env = append(append(os.Environ(), extra...), attemptEnv+"="+id)
		want, err := cmd.Output()
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != string(want) {
			t.Errorf("%s: environment\n%q\nwant (os/exec)\n%q", id, got, want)
		}
	}
}

// TestStartFailureLeavesNothing checks that a start that fails after the log
// is open leaves no process, no open descriptor of the log and no fresh
// working directory, with the errors os/exec gave.
func TestStartFailureLeavesNothing(t *testing.T) {
	t.Parallel()
	ex := newTestExecutor(t)
	logDir := t.TempDir()
	cases := []struct {
		name string
		spec executor.Spec
		want string
		is   error
	}{
		{"missing executable", executor.Spec{Command: []string{"./weir-no-such-executable"}},
			"fork/exec ./weir-no-such-executable: no such file or directory", fs.ErrNotExist},
		{"not executable", executor.Spec{Command: []string{os.DevNull}},
			"fork/exec /dev/null: permission denied", fs.ErrPermission},
		{"NUL in env", executor.Spec{Command: []string{"true"}, Env: []string{"A=b\x00c"}},
			"exec: environment variable contains NUL", nil},
		{"NUL in argv", executor.Spec{Command: []string{"sh", "-c", "\x00"}},
			"invalid argument", nil},
	}
	for i, c := range cases {
		s := c.spec
		s.AttemptID = "fail-" + strconv.Itoa(i)
		s.LogPath = filepath.Join(logDir, s.AttemptID+".log")
		_, err := ex.Start(context.Background(), s)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), strconv.Quote(s.AttemptID)) {
			t.Errorf("%s: Start error = %v, want one naming the attempt and %q", c.name, err, c.want)
		}
		if c.is != nil && !errors.Is(err, c.is) {
			t.Errorf("%s: Start error = %v, want %v", c.name, err, c.is)
		}
		if _, ok, _ := ex.Find(context.Background(), s.AttemptID); ok {
			t.Errorf("%s: a process of the failed attempt is running", c.name)
		}
		fds, err := os.ReadDir("/proc/self/fd")
		if err != nil {
			t.Fatal(err)
		}
		for _, fd := range fds {
			if target, _ := os.Readlink("/proc/self/fd/" + fd.Name()); target == s.LogPath {
				t.Errorf("%s: descriptor %s of the log is still open", c.name, fd.Name())
			}
		}
	}
	if ents, err := os.ReadDir(ex.workRoot); err != nil || len(ents) != 0 {
		t.Errorf("work root after failed starts: %v, %v; want empty", ents, err)
	}
}

// TestEncodeMatchesJSON checks the direct handle encoding against
// json.Marshal.
func TestEncodeMatchesJSON(t *testing.T) {
	t.Parallel()
	for _, r := range []handleRef{
		{V: 1, Attempt: "0193a5c2-7f1e-7abc-8def-0123456789ab", PID: 4242, PGID: 4242, Boot: "6f1d0c52-8b1e-4b8e-9a57-2f0f4b7c1e11", Log: "/runs/a1/log"},
		{V: 1, Attempt: "a", PID: math.MaxInt32, PGID: 2, Start: math.MaxUint64, Log: "/x"},
		{V: 1, Attempt: "a b~!", PID: 2, PGID: 2, Start: 7, Boot: "", Log: "/with space/log"},
		{V: 1, Attempt: `quo"te`, PID: 2, PGID: 2, Log: `/back\slash`},
		{V: 1, Attempt: "<html>&", PID: 2, PGID: 2, Log: "/x"},
		{V: 1, Attempt: "ctl\n\t\x7f", PID: 2, PGID: 2, Log: "/x"},
		{V: 1, Attempt: "ünïcode\u2028", PID: 2, PGID: 2, Log: "/bad\xffutf8"},
	} {
		got := r.encode()
		want, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != string(want) {
			t.Errorf("encode(%+v) = %s, want %s", r, got, want)
		}
		if back, err := parseHandle(got); err != nil || back.Attempt != strings.ToValidUTF8(r.Attempt, "\uFFFD") || back.Start != r.Start {
			t.Errorf("parseHandle(%s) = %+v, %v", got, back, err)
		}
	}
}
