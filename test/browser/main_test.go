//go:build browser

// Package browser tests weir's web interface in a real browser: Debian's
// chromium, headless, against a real `weir server` running pipelines
// compiled by the real kfp SDK. Each step asserts on what the page shows
// (the data-testid, data-task and data-state hooks of ui/README.md), and
// leaves a screenshot. The suite also measures how long a run page of 10,
// 1,000 and 10,000 loop iterations takes to become usable, and reports it.
//
// The browser is driven over the Chrome DevTools Protocol by chromedp
// (github.com/chromedp/chromedp, MIT licensed): a pure Go client of the
// protocol that starts the browser itself, so the suite needs no driver
// binary, Node or Selenium. It is the only module the suite adds (with its
// protocol types, github.com/chromedp/cdproto), and only under the browser
// build tag: neither the weir binary nor `go test ./...` links it.
//
// Required environment (see `make browser`):
//
//	WEIR_BIN         the weir binary under test, built with its interface (`make build`)
//	WEIR_E2E_PYTHON  a Python with kfp==2.17.3, used to compile the pipelines
//
// Optional:
//
//	WEIR_CHROMIUM            the browser (default /usr/bin/chromium)
//	WEIR_SCREENSHOTS         where the screenshots go (default test/browser/screenshots)
//	WEIR_BROWSER_PYENV_ROOT  reuse Python environments across suite runs (default: a fresh suite directory)
//	WEIR_BROWSER_KEEP        keep the suite's temporary directory (its path is printed)
package browser

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
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
	// chromium is the browser.
	chromium string
	// repoRoot is the repository's top directory.
	repoRoot string
	// suiteDir holds everything the suite creates outside t.TempDir().
	suiteDir string
	// pyenvRoot is the one Python-environment cache shared by every test.
	pyenvRoot string
	// shotDir receives the screenshots.
	shotDir string
	// compiled maps a pipeline's name (its source file's stem, or "iris")
	// to its compiled YAML.
	compiled harness.Compiled
)

func TestMain(m *testing.M) {
	os.Exit(runSuite(m))
}

func runSuite(m *testing.M) int {
	if err := setup(); err != nil {
		fmt.Fprintln(os.Stderr, "browser:", err)
		return 1
	}
	if os.Getenv("WEIR_BROWSER_KEEP") != "" {
		fmt.Fprintln(os.Stderr, "browser: keeping", suiteDir)
	} else {
		defer os.RemoveAll(suiteDir)
	}
	if err := checkInterfaceBuilt(); err != nil {
		fmt.Fprintln(os.Stderr, "browser:", err)
		return 1
	}
	var err error
	if compiled, err = harness.CompileSuite(kfpPython, repoRoot, "pipelines", filepath.Join(suiteDir, "compiled")); err != nil {
		fmt.Fprintln(os.Stderr, "browser: compiling pipelines with the kfp SDK:", err)
		return 1
	}
	return m.Run()
}

func setup() error {
	var err error
	const how = "run the suite with `make browser`"
	if weirBin, err = harness.Executable("WEIR_BIN", "", "the weir binary (build it with `make build`)", how); err != nil {
		return err
	}
	if kfpPython, err = harness.Executable("WEIR_E2E_PYTHON", "", "a Python interpreter with kfp==2.17.3 (`make venv` builds .venv/bin/python)", how); err != nil {
		return err
	}
	if chromium, err = harness.Executable("WEIR_CHROMIUM", "/usr/bin/chromium",
		"the chromium browser: install Debian's chromium package (apt-get install chromium) or set WEIR_CHROMIUM", how); err != nil {
		return err
	}
	if repoRoot, err = filepath.Abs(filepath.Join("..", "..")); err != nil {
		return err
	}
	shotDir = os.Getenv("WEIR_SCREENSHOTS")
	if shotDir == "" {
		shotDir = filepath.Join(repoRoot, "test", "browser", "screenshots")
	}
	if shotDir, err = filepath.Abs(shotDir); err != nil {
		return err
	}
	if err := os.MkdirAll(shotDir, 0o755); err != nil {
		return fmt.Errorf("screenshot directory: %w", err)
	}
	if suiteDir, err = os.MkdirTemp("", "weir-browser-"); err != nil {
		return err
	}
	pyenvRoot = os.Getenv("WEIR_BROWSER_PYENV_ROOT")
	if pyenvRoot == "" {
		pyenvRoot = filepath.Join(suiteDir, "pyenv")
	} else if pyenvRoot, err = filepath.Abs(pyenvRoot); err != nil {
		return err
	}
	return os.MkdirAll(pyenvRoot, 0o755)
}

// checkInterfaceBuilt fails the suite when the binary serves the
// placeholder page instead of the interface (a build without npm).
func checkInterfaceBuilt() error {
	home := filepath.Join(suiteDir, "check")
	if err := os.MkdirAll(home, 0o755); err != nil {
		return err
	}
	s, err := harness.StartServer(weirBin, home, pyenvRoot, "")
	if err != nil {
		return err
	}
	defer s.Stop()
	resp, err := http.Get(s.URL + "/")
	if err != nil {
		return fmt.Errorf("GET /: %w", err)
	}
	defer resp.Body.Close()
	page, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("GET /: %w", err)
	}
	if bytes.Contains(page, []byte("The web interface is not built")) || !bytes.Contains(page, []byte(`id="root"`)) {
		return errors.New(weirBin + " serves the placeholder page, not the web interface: build it with npm " +
			"installed (`make build` builds ui/ first; see ui/README.md)")
	}
	return nil
}

// pipelineFile returns the compiled YAML of a pipeline.
func pipelineFile(t *testing.T, name string) string { return compiled.File(t, name) }
