package pyenv

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakePython is a shell script standing in for a Python interpreter. It
// answers the identification script, creates a skeletal venv for
// "-m venv DIR" (copying itself as DIR/bin/python) and logs "-m pip ..."
// calls, failing for any requirement starting with "weir-fail".
const fakePython = `#!/bin/sh
log='@LOG@'
case "$1" in
-I)
	printf '%s\n' "$0" "$0" "3.99.0 (fake) [test]" '@PIP@'
	exit 0 ;;
-m)
	mod=$2
	shift 2
	case "$mod" in
	venv)
		echo "venv $*" >> "$log"
		for a; do dir=$a; done
		mkdir -p "$dir/bin" && cp "$0" "$dir/bin/python" && echo "home = fake" > "$dir/pyvenv.cfg"
		exit $? ;;
	pip)
		echo "$0 pip $*" >> "$log"
		echo "env PIP_CACHE_DIR=$PIP_CACHE_DIR UV_CACHE_DIR=$UV_CACHE_DIR TMPDIR=$TMPDIR" >> "$log"
		sleep @SLEEP@
		for a; do
			case "$a" in weir-fail*) echo "ERROR: No matching distribution found for $a" >&2; exit 1 ;; esac
		done
		echo "Successfully installed (fake)"
		exit 0 ;;
	esac ;;
esac
echo "fake python: unsupported arguments: $*" >&2
exit 2
`

// fakeUV is a shell script standing in for uv.
const fakeUV = `#!/bin/sh
log='@LOG@'
echo "uv $*" >> "$log"
case "$1" in
venv)
	for a; do dir=$a; done
	mkdir -p "$dir/bin" && printf '#!/bin/sh\nexit 0\n' > "$dir/bin/python" && chmod +x "$dir/bin/python"
	exit $? ;;
pip)
	sleep @SLEEP@
	for a; do
		case "$a" in weir-fail*) echo "error: $a was not found in the package registry" >&2; exit 1 ;; esac
	done
	exit 0 ;;
esac
exit 2
`

type fakeTools struct {
	dir    string
	log    string
	python string
	uv     string
}

func newFakeTools(t *testing.T, pipVersion string, sleep time.Duration) *fakeTools {
	t.Helper()
	dir := t.TempDir()
	f := &fakeTools{dir: dir, log: filepath.Join(dir, "calls.log"),
		python: filepath.Join(dir, "python"), uv: filepath.Join(dir, "uv")}
	r := strings.NewReplacer("@LOG@", f.log, "@PIP@", pipVersion, "@SLEEP@", fmt.Sprintf("%.3f", sleep.Seconds()))
	for path, src := range map[string]string{f.python: fakePython, f.uv: fakeUV} {
		if err := os.WriteFile(path, []byte(r.Replace(src)), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

// calls returns the logged invocations, without the environment lines.
func (f *fakeTools) calls(t *testing.T) []string {
	t.Helper()
	data, err := os.ReadFile(f.log)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, l := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		if !strings.HasPrefix(l, "env ") {
			out = append(out, l)
		}
	}
	return out
}

func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug}))
}

func (f *fakeTools) manager(t *testing.T, root string, uv bool) *Manager {
	o := Options{Root: root, Python: f.python, DisableUV: !uv, Logger: testLogger(t)}
	if uv {
		o.UV = f.uv
	}
	return NewWithOptions(o)
}

var sixAndKFP = Requirements{Installs: []Install{
	{Packages: []string{"six==1.17.0"}},
	{Packages: []string{"kfp==2.17.3"}, NoDeps: true},
}}

func TestEnsureBuildsOnceAndReuses(t *testing.T) {
	ctx := t.Context()
	f := newFakeTools(t, "23.2.1", 0)
	root := t.TempDir()
	m := f.manager(t, root, false)

	env, err := m.Ensure(ctx, sixAndKFP)
	if err != nil {
		t.Fatal(err)
	}
	if m.Builds() != 1 {
		t.Fatalf("Builds = %d after first Ensure", m.Builds())
	}
	id, err := m.InterpreterID(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if env.Key != sixAndKFP.Key(id) || env.Dir != filepath.Join(root, env.Key) ||
		env.Python != filepath.Join(root, env.Key, "bin", "python") {
		t.Fatalf("env = %+v", env)
	}
	want := []string{
		"venv --without-pip " + env.Dir,
		f.python + " pip --python " + env.Python + " install --disable-pip-version-check --no-input six==1.17.0",
		f.python + " pip --python " + env.Python + " install --disable-pip-version-check --no-input --no-deps kfp==2.17.3",
	}
	if got := f.calls(t); !slices.Equal(got, want) {
		t.Fatalf("calls\n got %q\nwant %q", got, want)
	}
	marker := filepath.Join(env.Dir, MarkerName)
	data, err := os.ReadFile(marker)
	if err != nil {
		t.Fatal(err)
	}
	if string(data) != string(sixAndKFP.manifest(id)) || !strings.Contains(string(data), `"kfp==2.17.3"`) {
		t.Fatalf("marker = %s", data)
	}
	// Installs keep their caches and temporary files under the root.
	log, _ := os.ReadFile(f.log)
	wantEnv := fmt.Sprintf("env PIP_CACHE_DIR=%s UV_CACHE_DIR=%s TMPDIR=%s", filepath.Join(root, ".pip-cache"),
		filepath.Join(root, ".uv-cache"), filepath.Join(root, ".tmp", env.Key+"-"))
	if !strings.Contains(string(log), wantEnv) {
		t.Errorf("install environment not under root; log:\n%s", log)
	}
	if left, _ := os.ReadDir(filepath.Join(root, ".tmp")); len(left) != 0 {
		t.Errorf("temporary directories left: %v", left)
	}
	before, _ := os.Stat(marker)

	// Same Manager, then a fresh one (another process) on the same root.
	for _, mm := range []*Manager{m, f.manager(t, root, false)} {
		again, err := mm.Ensure(ctx, sixAndKFP)
		if err != nil {
			t.Fatal(err)
		}
		if again.Key != env.Key || again.Dir != env.Dir || again.Python != env.Python {
			t.Fatalf("second Ensure gave %+v", again)
		}
	}
	if m.Builds() != 1 {
		t.Errorf("Builds = %d after reuse", m.Builds())
	}
	if got := f.calls(t); len(got) != len(want) {
		t.Errorf("reuse ran installers: %q", got[len(want):])
	}
	after, _ := os.Stat(marker)
	if !after.ModTime().Equal(before.ModTime()) {
		t.Errorf("marker rewritten on reuse")
	}
}

func TestEnsureConcurrentBuildsOnce(t *testing.T) {
	f := newFakeTools(t, "23.2.1", 300*time.Millisecond)
	root := t.TempDir()
	// Two Managers on one root stand for two weir processes: they only
	// share the file lock.
	managers := []*Manager{f.manager(t, root, false), f.manager(t, root, false)}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	dirs := make(chan string, 8)
	for i := range 8 {
		wg.Go(func() {
			env, err := managers[i%2].Ensure(t.Context(), sixAndKFP)
			if err != nil {
				errs <- err
				return
			}
			dirs <- env.Dir
		})
	}
	wg.Wait()
	close(errs)
	close(dirs)
	for err := range errs {
		t.Error(err)
	}
	seen := map[string]bool{}
	for d := range dirs {
		seen[d] = true
	}
	if len(seen) != 1 {
		t.Errorf("environments handed out: %v", seen)
	}
	if n := managers[0].Builds() + managers[1].Builds(); n != 1 {
		t.Errorf("Builds = %d, want 1", n)
	}
	venvs := 0
	for _, c := range f.calls(t) {
		if strings.HasPrefix(c, "venv ") {
			venvs++
		}
	}
	if venvs != 1 {
		t.Errorf("%d venvs created: %q", venvs, f.calls(t))
	}
}

func TestEnsureFailureLeavesNothing(t *testing.T) {
	for _, uv := range []bool{false, true} {
		t.Run(fmt.Sprintf("uv=%v", uv), func(t *testing.T) {
			f := newFakeTools(t, "23.2.1", 0)
			root := t.TempDir()
			m := f.manager(t, root, uv)
			req := Requirements{Installs: []Install{{Packages: []string{"six", "weir-fail-zzz==1.0"}}}}
			env, err := m.Ensure(t.Context(), req)
			if err == nil {
				t.Fatalf("Ensure succeeded: %+v", env)
			}
			var ie *InstallError
			if !errors.As(err, &ie) {
				t.Fatalf("error %T is not an *InstallError: %v", err, err)
			}
			id, _ := m.InterpreterID(t.Context())
			key := req.Key(id)
			msg := err.Error()
			for _, want := range []string{key, "weir-fail-zzz==1.0", "six", "exit status 1"} {
				if !strings.Contains(msg, want) {
					t.Errorf("error lacks %q:\n%s", want, msg)
				}
			}
			if !strings.Contains(ie.Output, "weir-fail-zzz==1.0") || !strings.Contains(msg, ie.Output) {
				t.Errorf("installer output missing: %q", ie.Output)
			}
			if _, err := os.Stat(filepath.Join(root, key)); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("environment directory left behind: %v", err)
			}
			if left, _ := os.ReadDir(filepath.Join(root, ".tmp")); len(left) != 0 {
				t.Errorf("temporary directories left: %v", left)
			}
			// The failure is not cached: a good request afterwards builds.
			if _, err := m.Ensure(t.Context(), sixAndKFP); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestEnsureRebuildsUnfinished(t *testing.T) {
	f := newFakeTools(t, "23.2.1", 0)
	root := t.TempDir()
	m := f.manager(t, root, false)
	id, err := m.InterpreterID(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(root, sixAndKFP.Key(id))
	for _, marker := range []string{"", "stale manifest\n"} {
		if err := os.MkdirAll(filepath.Join(dir, "bin"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "half-built"), nil, 0o644); err != nil {
			t.Fatal(err)
		}
		if marker != "" {
			if err := os.WriteFile(filepath.Join(dir, MarkerName), []byte(marker), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		before := m.Builds()
		env, err := m.Ensure(t.Context(), sixAndKFP)
		if err != nil {
			t.Fatal(err)
		}
		if m.Builds() != before+1 {
			t.Errorf("marker %q: not rebuilt", marker)
		}
		if _, err := os.Stat(filepath.Join(env.Dir, "half-built")); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("marker %q: old content kept", marker)
		}
		if !complete(env.Dir, sixAndKFP.manifest(id)) {
			t.Errorf("marker %q: rebuilt environment not complete", marker)
		}
		if err := os.Remove(filepath.Join(dir, MarkerName)); err != nil {
			t.Fatal(err)
		}
	}
}

func TestEnsureBackends(t *testing.T) {
	req := Requirements{Installs: []Install{
		{Packages: []string{"numpy"}, IndexURL: "https://i.example/simple",
			ExtraIndexURLs: []string{"https://x.example/simple"}, TrustedHosts: []string{"x.example"}},
		{Packages: []string{"kfp==2.17.3"}, NoDeps: true},
	}}
	t.Run("uv", func(t *testing.T) {
		f := newFakeTools(t, "23.2.1", 0)
		m := f.manager(t, t.TempDir(), true)
		env, err := m.Ensure(t.Context(), req)
		if err != nil {
			t.Fatal(err)
		}
		want := []string{
			"uv venv --no-config --quiet --python " + f.python + " " + env.Dir,
			"uv pip install --no-config --python " + env.Python + " --index-url https://i.example/simple" +
				" --extra-index-url https://x.example/simple --index-strategy unsafe-best-match" +
				" --allow-insecure-host x.example numpy",
			"uv pip install --no-config --python " + env.Python + " --no-deps kfp==2.17.3",
		}
		if got := f.calls(t); !slices.Equal(got, want) {
			t.Errorf("calls\n got %q\nwant %q", got, want)
		}
	})
	t.Run("pip without --python", func(t *testing.T) {
		f := newFakeTools(t, "21.3.1", 0)
		m := f.manager(t, t.TempDir(), false)
		env, err := m.Ensure(t.Context(), req)
		if err != nil {
			t.Fatal(err)
		}
		want := []string{
			"venv " + env.Dir,
			env.Python + " pip install --disable-pip-version-check --no-input --index-url https://i.example/simple" +
				" --extra-index-url https://x.example/simple --trusted-host x.example numpy",
			env.Python + " pip install --disable-pip-version-check --no-input --no-deps kfp==2.17.3",
		}
		if got := f.calls(t); !slices.Equal(got, want) {
			t.Errorf("calls\n got %q\nwant %q", got, want)
		}
	})
}

func TestEnsureWaitHonoursContext(t *testing.T) {
	f := newFakeTools(t, "23.2.1", 0)
	root := t.TempDir()
	m := f.manager(t, root, false)
	id, err := m.InterpreterID(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	// Someone else (another process) is building this environment.
	unlock, err := flockFile(t.Context(), filepath.Join(root, sixAndKFP.Key(id)+".lock"), nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	if _, err := m.Ensure(ctx, sixAndKFP); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Ensure while locked: %v", err)
	}
	if m.Builds() != 0 {
		t.Fatalf("built while locked")
	}
	unlock()
	if _, err := m.Ensure(t.Context(), sixAndKFP); err != nil {
		t.Fatal(err)
	}
}

func TestEnsureErrors(t *testing.T) {
	f := newFakeTools(t, "23.2.1", 0)
	m := f.manager(t, t.TempDir(), false)
	for _, req := range []Requirements{
		{},
		{Installs: []Install{{}}},
		{Installs: []Install{{Packages: []string{"-r", "req.txt"}}}},
		{Installs: []Install{{Packages: []string{"six"}, IndexURL: "--user"}}},
		{Installs: []Install{{Packages: []string{"six\nnumpy"}}}},
	} {
		if _, err := m.Ensure(t.Context(), req); err == nil {
			t.Errorf("Ensure(%#v) succeeded", req)
		}
	}
	if m.Builds() != 0 {
		t.Errorf("Builds = %d", m.Builds())
	}
	bad := NewWithOptions(Options{Root: t.TempDir(), Python: filepath.Join(t.TempDir(), "no-python")})
	if _, err := bad.Ensure(t.Context(), sixAndKFP); err == nil || !strings.Contains(err.Error(), "identifying python interpreter") {
		t.Errorf("missing interpreter: %v", err)
	}
}

func TestKey(t *testing.T) {
	const id = "/usr/bin/python3.11 3.11.2 (main) [GCC 12.2.0]"
	base := Requirements{Installs: []Install{
		{Packages: []string{"numpy", "pandas"}},
		{Packages: []string{"kfp==2.17.3"}, NoDeps: true},
	}}
	key := base.Key(id)
	// Golden value: a change means every existing environment is rebuilt.
	if key != "b2a3002e1dddacbf9b789c46827984b8" {
		t.Errorf("key = %s, want the golden value", key)
	}
	if len(key) != 32 || strings.Trim(key, "0123456789abcdef") != "" {
		t.Fatalf("key %q is not 32 hex digits", key)
	}
	same := []Requirements{
		{UseVenv: true, Installs: base.Installs},
		{Installs: []Install{
			{Packages: []string{" numpy", "pandas\t"}, ExtraIndexURLs: []string{}},
			{Packages: []string{"kfp==2.17.3"}, NoDeps: true, TrustedHosts: []string{}},
		}},
	}
	for _, r := range same {
		if r.Key(id) != key {
			t.Errorf("%#v: key differs", r)
		}
	}
	different := []Requirements{
		{Installs: []Install{{Packages: []string{"pandas", "numpy"}}, base.Installs[1]}},
		{Installs: []Install{base.Installs[1], base.Installs[0]}},
		{Installs: []Install{{Packages: []string{"numpy", "pandas", "kfp==2.17.3"}}}},
		{Installs: []Install{base.Installs[0], {Packages: []string{"kfp==2.17.3"}}}},
		{Installs: []Install{base.Installs[0], {Packages: []string{"kfp==2.17.3"}, NoDeps: true, IndexURL: "https://x"}}},
		{Installs: []Install{base.Installs[0], {Packages: []string{"kfp==2.17.3"}, NoDeps: true, ExtraIndexURLs: []string{"https://x"}}}},
		{Installs: []Install{base.Installs[0], {Packages: []string{"kfp==2.17.3"}, NoDeps: true, TrustedHosts: []string{"x"}}}},
	}
	for _, r := range different {
		if r.Key(id) == key {
			t.Errorf("%#v: same key", r)
		}
	}
	if base.Key(id+"x") == key {
		t.Error("interpreter not part of the key")
	}
	if got, want := base.String(), "numpy pandas && --no-deps kfp==2.17.3"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	if got := base.Packages(); !slices.Equal(got, []string{"numpy", "pandas", "kfp==2.17.3"}) {
		t.Errorf("Packages() = %q", got)
	}
}

func TestEnvEnviron(t *testing.T) {
	env := &Env{Dir: "/r/k"}
	got := env.Environ([]string{"HOME=/h", "PATH=/usr/bin:/bin", "VIRTUAL_ENV=/old", "PYTHONHOME=/x",
		"PYTHONNOUSERSITE=", "PYTHONPATH=/p", "PATH=/last"})
	want := []string{"HOME=/h", "PYTHONPATH=/p", "PATH=/r/k/bin:/last", "VIRTUAL_ENV=/r/k",
		"PYTHONNOUSERSITE=1", "PIP_DISABLE_PIP_VERSION_CHECK=1"}
	if !slices.Equal(got, want) {
		t.Errorf("Environ\n got %q\nwant %q", got, want)
	}
	got = env.Environ(nil)
	if got[0] != "PATH=/r/k/bin:/usr/local/bin:/usr/bin:/bin" {
		t.Errorf("Environ(nil) = %q", got)
	}
}

func TestPipAtLeast(t *testing.T) {
	for v, want := range map[string]bool{"23.2.1": true, "22.3": true, "22.3.dev0": true, "22.2.2": false,
		"9.0.1": false, "": false, "x.y": false, "24.0b1": true, "100.0": true} {
		if got := pipAtLeast(v, 22, 3); got != want {
			t.Errorf("pipAtLeast(%q) = %v", v, got)
		}
	}
}
