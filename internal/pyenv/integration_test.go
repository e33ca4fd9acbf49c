package pyenv

import (
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// The tests in this file build real environments from PyPI. They run only
// with WEIR_PYENV_INTEGRATION=1 and never in -short mode:
//
//	WEIR_PYENV_INTEGRATION=1 go test -v -run Integration ./internal/pyenv/
//
// The interpreter is $WEIR_PYTHON or python3; the uv backend is exercised
// when uv is on PATH.

func requireIntegration(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("builds real environments; skipped in -short mode")
	}
	if os.Getenv("WEIR_PYENV_INTEGRATION") != "1" {
		t.Skip("set WEIR_PYENV_INTEGRATION=1 to build real environments (needs PyPI)")
	}
}

func integrationPython() string {
	if p := os.Getenv("WEIR_PYTHON"); p != "" {
		return p
	}
	return "python3"
}

// runComponent runs a parsed component's rest argv in env with the
// executor input built from params, and returns the executor output.
func runComponent(t *testing.T, env *Env, rest []string, params map[string]any) map[string]any {
	t.Helper()
	work := t.TempDir()
	outFile := filepath.Join(work, "executor_output.json")
	input, err := json.Marshal(map[string]any{
		"inputs": map[string]any{"parameterValues": params},
		"outputs": map[string]any{
			"parameters": map[string]any{"Output": map[string]any{"outputFile": filepath.Join(work, "Output")}},
			"outputFile": outFile,
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	argv := make([]string, len(rest))
	for i, a := range rest {
		argv[i] = strings.ReplaceAll(a, "{{$}}", string(input))
	}
	cmd := exec.CommandContext(t.Context(), argv[0], argv[1:]...)
	cmd.Dir = work
	// TMPDIR keeps the component's mktemp inside the test directory.
	cmd.Env = append(env.Environ(os.Environ()), "TMPDIR="+work)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("component failed: %v\n%s", err, out)
	}
	data, err := os.ReadFile(outFile)
	if err != nil {
		t.Fatalf("no executor output: %v\n%s", err, out)
	}
	var result map[string]any
	if err := json.Unmarshal(data, &result); err != nil {
		t.Fatalf("executor output %s: %v", data, err)
	}
	return result
}

func outputParameter(t *testing.T, result map[string]any) any {
	t.Helper()
	values, _ := result["parameterValues"].(map[string]any)
	if values == nil {
		t.Fatalf("executor output without parameterValues: %v", result)
	}
	return values["Output"]
}

func TestIntegration(t *testing.T) {
	requireIntegration(t)
	fixtures := loadFixtures(t)
	python := integrationPython()
	for _, backend := range []string{"pip", "uv"} {
		t.Run(backend, func(t *testing.T) {
			useUV := backend == "uv"
			if _, err := exec.LookPath("uv"); useUV && err != nil {
				t.Skip("uv not on PATH")
			}
			newManager := func(root string) *Manager {
				return NewWithOptions(Options{Root: root, Python: python, DisableUV: !useUV, Logger: testLogger(t)})
			}
			root := t.TempDir()

			plainReq, plainRest, ok := ParseCommand(fixtures["plain"].argv())
			if !ok {
				t.Fatal("plain fixture not recognised")
			}

			t.Run("BuildRunReuse", func(t *testing.T) {
				m := newManager(root)
				start := time.Now()
				env, err := m.Ensure(t.Context(), plainReq)
				if err != nil {
					t.Fatal(err)
				}
				t.Logf("TIMING %s first build (kfp==2.17.3 --no-deps): %v", backend, time.Since(start))
				if m.Builds() != 1 {
					t.Fatalf("Builds = %d", m.Builds())
				}
				where, err := exec.Command(env.Python, "-c", "import importlib.util; print(importlib.util.find_spec('kfp').origin)").Output()
				if err != nil || !strings.HasPrefix(string(where), env.Dir) {
					t.Fatalf("kfp not installed in the environment: %s %v", where, err)
				}
				result := runComponent(t, env, plainRest, map[string]any{"x": 41})
				if got := outputParameter(t, result); got != 42.0 {
					t.Errorf("Output = %v, want 42", got)
				}
				marker := filepath.Join(env.Dir, MarkerName)
				before, err := os.Stat(marker)
				if err != nil {
					t.Fatal(err)
				}
				// Same Manager and a new one (as another process would).
				other := newManager(root)
				start = time.Now()
				if _, err := other.InterpreterID(t.Context()); err != nil {
					t.Fatal(err)
				}
				t.Logf("TIMING %s interpreter identification (once per Manager): %v", backend, time.Since(start))
				for i, mm := range []*Manager{m, other} {
					start := time.Now()
					again, err := mm.Ensure(t.Context(), plainReq)
					if err != nil {
						t.Fatal(err)
					}
					t.Logf("TIMING %s reuse #%d: %v", backend, i+1, time.Since(start))
					if again.Dir != env.Dir {
						t.Errorf("reuse gave %s, want %s", again.Dir, env.Dir)
					}
					if i == 1 && mm.Builds() != 0 {
						t.Errorf("new Manager built %d environments", mm.Builds())
					}
				}
				if m.Builds() != 1 {
					t.Errorf("Builds = %d after reuse", m.Builds())
				}
				after, _ := os.Stat(marker)
				if !after.ModTime().Equal(before.ModTime()) {
					t.Error("marker rewritten on reuse")
				}
			})

			t.Run("PackagesAndKFP", func(t *testing.T) {
				req, rest, ok := ParseCommand(fixtures["six_component"].argv())
				if !ok {
					t.Fatal("six_component fixture not recognised")
				}
				m := newManager(root)
				start := time.Now()
				env, err := m.Ensure(t.Context(), req)
				if err != nil {
					t.Fatal(err)
				}
				t.Logf("TIMING %s first build (six==1.17.0 && kfp==2.17.3 --no-deps): %v", backend, time.Since(start))
				result := runComponent(t, env, rest, map[string]any{"name": "weir"})
				if got := outputParameter(t, result); got != "hello weir from six 1.17.0" {
					t.Errorf("Output = %v", got)
				}
			})

			t.Run("IndexOptions", func(t *testing.T) {
				// --index-url and kfp's URL-valued --trusted-host reach the installer.
				req, rest, ok := ParseCommand(fixtures["index_kfp_only"].argv())
				if !ok || req.Installs[0].IndexURL == "" || len(req.Installs[0].TrustedHosts) == 0 {
					t.Fatalf("index_kfp_only fixture: ok=%v %#v", ok, req)
				}
				env, err := newManager(root).Ensure(t.Context(), req)
				if err != nil {
					t.Fatal(err)
				}
				if got := outputParameter(t, runComponent(t, env, rest, map[string]any{"x": 9})); got != 10.0 {
					t.Errorf("Output = %v, want 10", got)
				}
			})

			t.Run("UnfinishedRebuilt", func(t *testing.T) {
				m := newManager(root)
				id, err := m.InterpreterID(t.Context())
				if err != nil {
					t.Fatal(err)
				}
				dir := filepath.Join(root, plainReq.Key(id))
				if err := os.Remove(filepath.Join(dir, MarkerName)); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(dir, "leftover"), nil, 0o644); err != nil {
					t.Fatal(err)
				}
				env, err := m.Ensure(t.Context(), plainReq)
				if err != nil {
					t.Fatal(err)
				}
				if m.Builds() != 1 {
					t.Errorf("Builds = %d, want a rebuild", m.Builds())
				}
				if _, err := os.Stat(filepath.Join(dir, "leftover")); !errors.Is(err, os.ErrNotExist) {
					t.Error("unfinished directory reused")
				}
				if got := outputParameter(t, runComponent(t, env, plainRest, map[string]any{"x": 1})); got != 2.0 {
					t.Errorf("Output = %v, want 2", got)
				}
			})

			t.Run("Concurrent", func(t *testing.T) {
				fresh := t.TempDir()
				managers := []*Manager{newManager(fresh), newManager(fresh)}
				var wg sync.WaitGroup
				errs := make(chan error, 8)
				start := time.Now()
				for i := range 8 {
					wg.Go(func() {
						if _, err := managers[i%2].Ensure(t.Context(), plainReq); err != nil {
							errs <- err
						}
					})
				}
				wg.Wait()
				t.Logf("TIMING %s 8 concurrent Ensure: %v", backend, time.Since(start))
				close(errs)
				for err := range errs {
					t.Error(err)
				}
				if n := managers[0].Builds() + managers[1].Builds(); n != 1 {
					t.Errorf("Builds = %d, want 1", n)
				}
			})

			t.Run("Failure", func(t *testing.T) {
				m := newManager(root)
				req := Requirements{Installs: []Install{{Packages: []string{"weir-no-such-package-zzz==1.0"}}}}
				start := time.Now()
				_, err := m.Ensure(t.Context(), req)
				t.Logf("TIMING %s failing build: %v", backend, time.Since(start))
				var ie *InstallError
				if !errors.As(err, &ie) {
					t.Fatalf("error %T is not an *InstallError: %v", err, err)
				}
				t.Logf("error: %v", err)
				if !strings.Contains(ie.Output, "weir-no-such-package-zzz") ||
					!strings.Contains(err.Error(), ie.Output) ||
					!strings.Contains(err.Error(), "weir-no-such-package-zzz==1.0") {
					t.Errorf("error lacks the installer output or requirements: %v", err)
				}
				if _, err := os.Stat(filepath.Join(root, ie.Key)); !errors.Is(err, os.ErrNotExist) {
					t.Errorf("failed environment left behind: %v", err)
				}
			})
		})
	}
}
