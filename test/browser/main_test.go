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
	compiled = map[string]string{}
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
	if err := compileAll(); err != nil {
		fmt.Fprintln(os.Stderr, "browser: compiling pipelines with the kfp SDK:", err)
		return 1
	}
	return m.Run()
}

func setup() error {
	var err error
	if weirBin, err = requiredExecutable("WEIR_BIN", "", "the weir binary (build it with `make build`)"); err != nil {
		return err
	}
	if kfpPython, err = requiredExecutable("WEIR_E2E_PYTHON", "", "a Python interpreter with kfp==2.17.3 (`make venv` builds .venv/bin/python)"); err != nil {
		return err
	}
	if chromium, err = requiredExecutable("WEIR_CHROMIUM", "/usr/bin/chromium",
		"the chromium browser: install Debian's chromium package (apt-get install chromium) or set WEIR_CHROMIUM"); err != nil {
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

// requiredExecutable reads an environment variable naming an executable
// file (def when it is unset) and returns its absolute path.
func requiredExecutable(name, def, what string) (string, error) {
	v := os.Getenv(name)
	if v == "" {
		v = def
	}
	if v == "" {
		return "", fmt.Errorf("%s is not set: it must name %s; run the suite with `make browser`", name, what)
	}
	abs, err := filepath.Abs(v)
	if err != nil {
		return "", fmt.Errorf("%s=%s: %w", name, v, err)
	}
	fi, err := os.Stat(abs)
	if err != nil {
		return "", fmt.Errorf("%s=%s: %w; it must name %s", name, v, err, what)
	}
	if fi.IsDir() || fi.Mode()&0o111 == 0 {
		return "", fmt.Errorf("%s=%s is not an executable file; it must name %s", name, v, what)
	}
	return abs, nil
}

// checkInterfaceBuilt fails the suite when the binary serves the
// placeholder page instead of the interface (a build without npm).
func checkInterfaceBuilt() error {
	home := filepath.Join(suiteDir, "check")
	if err := os.MkdirAll(home, 0o755); err != nil {
		return err
	}
	s, err := launch(home)
	if err != nil {
		return err
	}
	defer s.stop()
	resp, err := http.Get(s.url + "/")
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

// compileAll compiles every pipeline under pipelines/ and the iris example
// into suiteDir/compiled, two at a time.
func compileAll() error {
	sources, err := filepath.Glob(filepath.Join("pipelines", "*.py"))
	if err != nil {
		return err
	}
	if len(sources) == 0 {
		return errors.New("no pipelines found in test/browser/pipelines")
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
	var (
		mu   sync.Mutex
		errs []string
		wg   sync.WaitGroup
		sem  = make(chan struct{}, 2)
	)
	for name, src := range jobs {
		out := filepath.Join(outDir, name+".yaml")
		wg.Go(func() {
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
		})
	}
	wg.Wait()
	if len(errs) > 0 {
		sort.Strings(errs)
		return errors.New(strings.Join(errs, "\n"))
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
