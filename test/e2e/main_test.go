//go:build e2e

// Package e2e runs the weir binary against pipelines compiled by the real
// kfp SDK and checks what flowed through them.
//
// Required environment (see `make e2e`):
//
//	WEIR_BIN         the weir binary under test
//	WEIR_E2E_PYTHON  a Python with kfp==2.17.3, used to compile the pipelines
//
// Optional:
//
//	WEIR_E2E_PYENV_ROOT  reuse Python environments across suite runs (default: a fresh suite directory)
//	WEIR_E2E_KEEP        keep the suite's temporary directory (its path is printed)
package e2e

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
)

var (
	// weirBin is the absolute path of the binary under test.
	weirBin string
	// kfpPython is the interpreter that compiles pipelines.
	kfpPython string
	// repoRoot is the repository's top directory.
	repoRoot string
	// suiteDir holds everything the suite creates outside t.TempDir().
	suiteDir string
	// pyenvRoot is the one Python-environment cache shared by every test.
	pyenvRoot string
	// compiled maps a pipeline's name (its source file's stem, or "iris")
	// to its compiled YAML.
	compiled = map[string]string{}
)

func TestMain(m *testing.M) {
	os.Exit(runSuite(m))
}

func runSuite(m *testing.M) int {
	var err error
	if weirBin, err = requiredExecutable("WEIR_BIN", "the weir binary (build it with `make build`)"); err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	if kfpPython, err = requiredExecutable("WEIR_E2E_PYTHON", "a Python interpreter with kfp==2.17.3 (`make venv` builds .venv/bin/python)"); err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	if repoRoot, err = filepath.Abs(filepath.Join("..", "..")); err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	if suiteDir, err = os.MkdirTemp("", "weir-e2e-"); err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	if os.Getenv("WEIR_E2E_KEEP") != "" {
		fmt.Fprintln(os.Stderr, "e2e: keeping", suiteDir)
	} else {
		defer os.RemoveAll(suiteDir)
	}
	pyenvRoot = os.Getenv("WEIR_E2E_PYENV_ROOT")
	if pyenvRoot == "" {
		pyenvRoot = filepath.Join(suiteDir, "pyenv")
	} else if pyenvRoot, err = filepath.Abs(pyenvRoot); err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	if err := os.MkdirAll(pyenvRoot, 0o755); err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	if err := compileAll(); err != nil {
		fmt.Fprintln(os.Stderr, "e2e: compiling pipelines with the kfp SDK:", err)
		return 1
	}
	return m.Run()
}

// requiredExecutable reads an environment variable naming an executable
// file and returns its absolute path.
func requiredExecutable(name, what string) (string, error) {
	v := os.Getenv(name)
	if v == "" {
		return "", fmt.Errorf("%s is not set: it must name %s; run the suite with `make e2e`", name, what)
	}
	abs, err := filepath.Abs(v)
	if err != nil {
		return "", fmt.Errorf("%s=%s: %v", name, v, err)
	}
	fi, err := os.Stat(abs)
	if err != nil {
		return "", fmt.Errorf("%s=%s: %v", name, v, err)
	}
	if fi.IsDir() || fi.Mode()&0o111 == 0 {
		return "", fmt.Errorf("%s=%s is not an executable file", name, v)
	}
	return abs, nil
}

// compileAll compiles every pipeline under pipelines/ and the iris example
// into suiteDir/compiled, two at a time.
func compileAll() error {
	sources, err := filepath.Glob(filepath.Join("pipelines", "*.py"))
	if err != nil {
		return err
	}
	if len(sources) == 0 {
		return fmt.Errorf("no pipelines found in test/e2e/pipelines")
	}
	jobs := map[string]string{"iris": filepath.Join(repoRoot, "examples", "iris", "pipeline.py")}
	for _, src := range sources {
		abs, err := filepath.Abs(src)
		if err != nil {
			return err
		}
		jobs[strings.TrimSuffix(filepath.Base(src), ".py")] = abs
	}
	outDir := filepath.Join(suiteDir, "compiled")
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return err
	}
	names := make([]string, 0, len(jobs))
	for name := range jobs {
		names = append(names, name)
	}
	sort.Strings(names)

	var (
		mu   sync.Mutex
		errs []string
		wg   sync.WaitGroup
		sem  = make(chan struct{}, 2)
	)
	for _, name := range names {
		out := filepath.Join(outDir, name+".yaml")
		wg.Add(1)
		go func(name, src, out string) {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			cmd := exec.Command(kfpPython, src, out)
			cmd.Dir = outDir
			var buf bytes.Buffer
			cmd.Stdout, cmd.Stderr = &buf, &buf
			err := cmd.Run()
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, fmt.Sprintf("%s: %v\n%s", src, err, buf.String()))
				return
			}
			compiled[name] = out
		}(name, jobs[name], out)
	}
	wg.Wait()
	if len(errs) > 0 {
		sort.Strings(errs)
		return fmt.Errorf("%s", strings.Join(errs, "\n"))
	}
	return nil
}

// pipelineFile returns the compiled YAML of a pipeline.
func pipelineFile(t *testing.T, name string) string {
	t.Helper()
	p, ok := compiled[name]
	if !ok {
		t.Fatalf("pipeline %q was not compiled", name)
	}
	return p
}
