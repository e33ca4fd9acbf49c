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
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/weir-dev/weir/test/harness"
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
	compiled harness.Compiled
)

func TestMain(m *testing.M) {
	os.Exit(runSuite(m))
}

func runSuite(m *testing.M) int {
	var err error
	const how = "run the suite with `make e2e`"
	if weirBin, err = harness.Executable("WEIR_BIN", "", "the weir binary (build it with `make build`)", how); err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	if kfpPython, err = harness.Executable("WEIR_E2E_PYTHON", "", "a Python interpreter with kfp==2.17.3 (`make venv` builds .venv/bin/python)", how); err != nil {
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
	if compiled, err = harness.CompileSuite(kfpPython, repoRoot, "pipelines", filepath.Join(suiteDir, "compiled")); err != nil {
		fmt.Fprintln(os.Stderr, "e2e: compiling pipelines with the kfp SDK:", err)
		return 1
	}
	return m.Run()
}

// pipelineFile returns the compiled YAML of a pipeline.
func pipelineFile(t *testing.T, name string) string { return compiled.File(t, name) }
