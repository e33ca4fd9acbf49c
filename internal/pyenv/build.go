package pyenv

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// errorOutputBytes is how much of a failed step's output an InstallError
// carries; outputBufferBytes is how much is kept while it runs.
const (
	errorOutputBytes  = 4096
	outputBufferBytes = 64 << 10
)

// identifyScript prints the interpreter's executable, its real path, its
// version on one line and the version of its pip ("" without pip). It runs
// with -I so that PYTHONPATH and the user site cannot change the answer.
const identifyScript = `import os, sys
print(sys.executable)
print(os.path.realpath(sys.executable))
print(" ".join(sys.version.split()))
try:
    import pip
    print(pip.__version__)
except Exception:
    print("")
`

// interpreter is an identified base interpreter.
type interpreter struct {
	exe        string // sys.executable: what builds run
	id         string // real path and version: what keys environments
	pipVersion string // "" when the interpreter has no pip
}

// interpreter identifies the Manager's interpreter once; a failure is not
// cached, so a later call tries again.
func (m *Manager) interpreter(ctx context.Context) (*interpreter, error) {
	m.mu.Lock()
	ip := m.interp
	m.mu.Unlock()
	if ip != nil {
		return ip, nil
	}
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, m.python, "-I", "-c", identifyScript)
	cmd.Env = sanitizedEnviron(os.Environ())
	out, err := cmd.Output()
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			err = fmt.Errorf("%w: %s", err, tail(ee.Stderr, errorOutputBytes))
		}
		return nil, fmt.Errorf("identifying python interpreter %q: %w", m.python, err)
	}
	lines := strings.Split(strings.TrimRight(string(out), "\n"), "\n")
	if len(lines) != 4 || !filepath.IsAbs(lines[0]) || lines[2] == "" {
		return nil, fmt.Errorf("identifying python interpreter %q: unexpected answer %q", m.python, out)
	}
	ip = &interpreter{exe: lines[0], id: lines[1] + " " + lines[2], pipVersion: lines[3]}
	m.mu.Lock()
	if m.interp == nil {
		m.interp = ip
	}
	ip = m.interp
	m.mu.Unlock()
	return ip, nil
}

// backend is a way of building an environment.
type backend struct {
	name  string
	steps func(ip *interpreter, env *Env) [][]string
}

// backend picks how to build: uv when available; otherwise a venv without
// pip filled by the base interpreter's own pip (pip --python, pip >= 22.3),
// which skips bootstrapping pip into every environment (about 0.1 s instead
// of 5-8 s for the venv); otherwise a venv with pip, filled by that pip.
func (m *Manager) backend(ip *interpreter) backend {
	if uv := m.uvPath(); uv != "" {
		return backend{name: "uv", steps: func(ip *interpreter, env *Env) [][]string {
			return uvSteps(uv, ip, env)
		}}
	}
	if pipAtLeast(ip.pipVersion, 22, 3) {
		return backend{name: "pip --python", steps: pipExternalSteps}
	}
	return backend{name: "pip", steps: pipInternalSteps}
}

func uvSteps(uv string, ip *interpreter, env *Env) [][]string {
	steps := [][]string{{uv, "venv", "--no-config", "--quiet", "--python", ip.exe, env.Dir}}
	for _, in := range env.Requirements.Installs {
		args := []string{uv, "pip", "install", "--no-config", "--python", env.Python}
		if in.IndexURL != "" {
			args = append(args, "--index-url", in.IndexURL)
		}
		for _, u := range in.ExtraIndexURLs {
			args = append(args, "--extra-index-url", u)
		}
		if len(in.ExtraIndexURLs) > 0 {
			// pip picks the best version across all indexes; uv by default
			// stops at the first index that has the package.
			args = append(args, "--index-strategy", "unsafe-best-match")
		}
		for _, h := range in.TrustedHosts {
			args = append(args, "--allow-insecure-host", h)
		}
		if in.NoDeps {
			args = append(args, "--no-deps")
		}
		steps = append(steps, append(args, in.Packages...))
	}
	return steps
}

func pipExternalSteps(ip *interpreter, env *Env) [][]string {
	steps := [][]string{{ip.exe, "-m", "venv", "--without-pip", env.Dir}}
	for _, in := range env.Requirements.Installs {
		args := []string{ip.exe, "-m", "pip", "--python", env.Python}
		steps = append(steps, append(args, pipInstallArgs(in)...))
	}
	return steps
}

func pipInternalSteps(ip *interpreter, env *Env) [][]string {
	steps := [][]string{{ip.exe, "-m", "venv", env.Dir}}
	for _, in := range env.Requirements.Installs {
		args := []string{env.Python, "-m", "pip"}
		steps = append(steps, append(args, pipInstallArgs(in)...))
	}
	return steps
}

func pipInstallArgs(in Install) []string {
	args := []string{"install", "--disable-pip-version-check", "--no-input"}
	if in.IndexURL != "" {
		args = append(args, "--index-url", in.IndexURL)
	}
	for _, u := range in.ExtraIndexURLs {
		args = append(args, "--extra-index-url", u)
	}
	for _, h := range in.TrustedHosts {
		args = append(args, "--trusted-host", h)
	}
	if in.NoDeps {
		args = append(args, "--no-deps")
	}
	return append(args, in.Packages...)
}

// pipAtLeast reports whether version (as pip.__version__ spells it) is at
// least major.minor.
func pipAtLeast(version string, major, minor int) bool {
	parts := strings.SplitN(version, ".", 3)
	if len(parts) < 2 {
		return false
	}
	digits := func(s string) string { // "0b1" -> "0"
		if i := strings.IndexFunc(s, func(r rune) bool { return r < '0' || r > '9' }); i >= 0 {
			return s[:i]
		}
		return s
	}
	ma, err1 := strconv.Atoi(parts[0])
	mi, err2 := strconv.Atoi(digits(parts[1]))
	if err1 != nil || err2 != nil {
		return false
	}
	return ma > major || (ma == major && mi >= minor)
}

// sanitizedEnviron drops the variables that would make an interpreter or
// an installer look outside the environment being built, or install
// somewhere else than into it.
func sanitizedEnviron(base []string) []string {
	out := make([]string, 0, len(base))
	for _, kv := range base {
		k, _, _ := strings.Cut(kv, "=")
		switch k {
		case "PYTHONHOME", "PYTHONPATH", "PYTHONSTARTUP", "PYTHONUSERBASE", "PYTHONNOUSERSITE",
			"VIRTUAL_ENV", "CONDA_PREFIX",
			"PIP_USER", "PIP_TARGET", "PIP_PREFIX", "PIP_ROOT", "PIP_PYTHON", "PIP_REQUIRE_VIRTUALENV",
			"PIP_CACHE_DIR", "PIP_NO_CACHE_DIR",
			"UV_PYTHON", "UV_SYSTEM_PYTHON", "UV_CACHE_DIR", "UV_NO_CACHE", "UV_PYTHON_DOWNLOADS",
			"TMPDIR":
			continue
		}
		out = append(out, kv)
	}
	return out
}

// installEnviron is the environment of build steps: the process's own,
// sanitized, with every cache and temporary file kept under the root.
// Index configuration (pip.conf, PIP_INDEX_URL, UV_INDEX_URL, ...) is left
// alone so that a host's mirror settings apply.
func (m *Manager) installEnviron(tmp string) []string {
	return append(sanitizedEnviron(os.Environ()),
		"PIP_CACHE_DIR="+filepath.Join(m.root, ".pip-cache"),
		"UV_CACHE_DIR="+filepath.Join(m.root, ".uv-cache"),
		"UV_PYTHON_DOWNLOADS=never",
		"TMPDIR="+tmp,
		"PIP_DISABLE_PIP_VERSION_CHECK=1",
		"PIP_NO_INPUT=1",
		"PYTHONNOUSERSITE=1",
	)
}

// run executes one build step in its own process group (killed whole if
// ctx ends) and returns the tail of its combined output.
func (m *Manager) run(ctx context.Context, argv []string, environ []string) (string, error) {
	var out tailBuffer
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env = environ
	cmd.Dir = m.root
	cmd.Stdout = &out
	cmd.Stderr = &out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	err := cmd.Run()
	if err != nil && ctx.Err() != nil {
		err = fmt.Errorf("%w (%w)", err, context.Cause(ctx))
	}
	return tail(out.Bytes(), errorOutputBytes), err
}

// tailBuffer is an io.Writer keeping the last outputBufferBytes written.
type tailBuffer struct {
	mu  sync.Mutex
	buf []byte
}

func (b *tailBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf = append(b.buf, p...)
	if over := len(b.buf) - outputBufferBytes; over > 0 {
		b.buf = append(b.buf[:0], b.buf[over:]...)
	}
	return len(p), nil
}

func (b *tailBuffer) Bytes() []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]byte(nil), b.buf...)
}

// tail returns the last n bytes of p as a string.
func tail(p []byte, n int) string {
	if len(p) > n {
		p = p[len(p)-n:]
		for len(p) > 0 && p[0]&0xC0 == 0x80 { // do not start inside a UTF-8 sequence
			p = p[1:]
		}
	}
	return string(p)
}
