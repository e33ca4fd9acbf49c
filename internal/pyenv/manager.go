// Package pyenv runs KFP lightweight Python components on the host without
// their per-step pip prelude.
//
// kfp compiles a lightweight component into `sh -c '<pip install ...> &&
// "$0" "$@"' <real command...>`, which installs packages_to_install and kfp
// itself every time a step starts. ParseCommand recognises that prelude and
// returns what it installs (Requirements) and the real command; a Manager
// keeps one virtual environment per distinct set of requirements under its
// root directory, builds it the first time it is asked for, and hands it
// out afterwards without running pip again.
//
// Environments are built with uv when it is available (uv venv, then one
// uv pip install per Install), otherwise with `python -m venv --without-pip`
// filled by the base interpreter's own pip through `pip --python` (pip >=
// 22.3), otherwise with a regular venv and its own pip. Either way an
// environment holds exactly what its requirements ask for: no pip, no
// setuptools. Host-wide installer configuration (pip.conf, PIP_INDEX_URL,
// UV_INDEX_URL, ...) applies to builds; uv's project configuration files are
// ignored (--no-config).
//
// Layout of the root directory:
//
//	<root>/<key>/              a virtual environment
//	<root>/<key>/.weir-complete  its manifest, written once the build succeeded
//	<root>/<key>.lock          flock(2) serialising checks and builds of <key>
//	<root>/.pip-cache/         pip's cache (PIP_CACHE_DIR)
//	<root>/.uv-cache/          uv's cache (UV_CACHE_DIR)
//	<root>/.tmp/               TMPDIR of installs, emptied after each build
package pyenv

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// MarkerName is the file written last into a finished environment. It
// holds the environment's manifest; a directory without it, or with a
// different manifest, is an unfinished build and is rebuilt.
const MarkerName = ".weir-complete"

// Options configures a Manager.
type Options struct {
	// Root is the directory holding the environments, their locks and the
	// installers' caches. It is created if missing.
	Root string
	// Python is the base interpreter, a path or a name looked up in PATH
	// (callers pass $WEIR_PYTHON or "python3"). Empty means "python3".
	Python string
	// UV is the uv executable used to build environments. Empty means "uv"
	// looked up in PATH when the first environment is built; when it is not
	// found environments are built with the interpreter's venv module and
	// pip.
	UV string
	// DisableUV builds with venv and pip even when uv is available.
	DisableUV bool
	// Logger receives build and wait events; nil discards them.
	Logger *slog.Logger
}

// Manager builds and hands out cached virtual environments. Its methods
// are safe for concurrent use, and any number of Managers, in one process
// or several, may share a root.
type Manager struct {
	root      string
	python    string
	uv        string
	disableUV bool
	log       *slog.Logger

	mu     sync.Mutex
	keys   map[string]chan struct{} // per-key in-process locks
	interp *interpreter             // cached once identified

	builds atomic.Int64
}

// New returns a Manager keeping environments under root and building them
// from the interpreter python ($WEIR_PYTHON or "python3"). uv is used when
// it is on PATH.
func New(root, python string, logger *slog.Logger) *Manager {
	return NewWithOptions(Options{Root: root, Python: python, Logger: logger})
}

// NewWithOptions returns a Manager configured by o.
func NewWithOptions(o Options) *Manager {
	if o.Python == "" {
		o.Python = "python3"
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	root := o.Root
	if abs, err := filepath.Abs(root); err == nil {
		root = abs
	}
	return &Manager{
		root:      root,
		python:    o.Python,
		uv:        o.UV,
		disableUV: o.DisableUV,
		log:       o.Logger.With(slog.String("component", "pyenv")),
		keys:      map[string]chan struct{}{},
	}
}

// Root returns the absolute directory holding the environments.
func (m *Manager) Root() string { return m.root }

// Builds returns how many environments this Manager has built (each
// creation of a virtual environment and its installs counts once, failed
// builds included). Reusing an environment does not count.
func (m *Manager) Builds() int64 { return m.builds.Load() }

// InterpreterID returns the identity of the Manager's interpreter that
// keys its environments: the real path of its executable and its
// sys.version. It runs the interpreter the first time and caches the
// answer.
func (m *Manager) InterpreterID(ctx context.Context) (string, error) {
	ip, err := m.interpreter(ctx)
	if err != nil {
		return "", err
	}
	return ip.id, nil
}

// Env is a finished environment.
type Env struct {
	// Key names the environment; Dir is Root/Key.
	Key string
	// Dir is the environment's directory (what VIRTUAL_ENV is set to).
	Dir string
	// Python is Dir/bin/python.
	Python string
	// Requirements is what the environment was built for, normalized.
	Requirements Requirements
}

// Environ returns base with the environment activated:
//
//   - PATH starts with Dir/bin, so "python3", "python" and installed console
//     scripts resolve into the environment (a missing or empty PATH becomes
//     Dir/bin plus the usual system directories);
//   - VIRTUAL_ENV is Dir;
//   - PYTHONNOUSERSITE=1, so packages in the user's ~/.local never leak into
//     a step (a virtual environment ignores them already; this keeps it so
//     even if a step re-executes a system interpreter);
//   - PYTHONHOME is removed, since it would point the environment's
//     interpreter at another standard library;
//   - PIP_DISABLE_PIP_VERSION_CHECK=1, as the kfp prelude exports.
//
// Every other variable of base is kept, in order.
func (e *Env) Environ(base []string) []string {
	out := make([]string, 0, len(base)+4)
	path := ""
	for _, kv := range base {
		k, v, _ := strings.Cut(kv, "=")
		switch k {
		case "PATH":
			path = v
			continue
		case "VIRTUAL_ENV", "PYTHONHOME", "PYTHONNOUSERSITE", "PIP_DISABLE_PIP_VERSION_CHECK":
			continue
		}
		out = append(out, kv)
	}
	bin := filepath.Join(e.Dir, "bin")
	if path == "" {
		path = "/usr/local/bin:/usr/bin:/bin"
	}
	return append(out,
		"PATH="+bin+string(os.PathListSeparator)+path,
		"VIRTUAL_ENV="+e.Dir,
		"PYTHONNOUSERSITE=1",
		"PIP_DISABLE_PIP_VERSION_CHECK=1",
	)
}

// Ensure returns the environment satisfying req, building it if no
// finished one exists. Concurrent calls, in this process or in others
// sharing the root, build a given environment at most once: the others
// wait for it and reuse it. A build that fails leaves no directory behind
// and returns an *InstallError.
func (m *Manager) Ensure(ctx context.Context, req Requirements) (*Env, error) {
	if err := req.Validate(); err != nil {
		return nil, fmt.Errorf("python environment for %s: %w", req, err)
	}
	ip, err := m.interpreter(ctx)
	if err != nil {
		return nil, err
	}
	norm := req.normalized()
	key := norm.Key(ip.id)
	want := norm.manifest(ip.id)
	dir := filepath.Join(m.root, key)
	env := &Env{Key: key, Dir: dir, Python: filepath.Join(dir, "bin", "python"), Requirements: norm}

	// A finished environment is never modified or removed, so it can be
	// recognised without any lock.
	if complete(dir, want) {
		m.log.Debug("python environment reused", slog.String("key", key))
		return env, nil
	}

	release, err := m.keyLock(ctx, key)
	if err != nil {
		return nil, fmt.Errorf("python environment %s for %s: %w", key, norm, err)
	}
	defer release()
	if err := os.MkdirAll(m.root, 0o755); err != nil {
		return nil, fmt.Errorf("python environment %s: creating root: %w", key, err)
	}
	waitStart := time.Now()
	unlock, err := flockFile(ctx, filepath.Join(m.root, key+".lock"), func() {
		m.log.Info("waiting for python environment lock", slog.String("key", key))
	})
	if err != nil {
		return nil, fmt.Errorf("python environment %s for %s: %w", key, norm, err)
	}
	defer unlock()
	if complete(dir, want) {
		m.log.Debug("python environment reused", slog.String("key", key),
			slog.Duration("waited", time.Since(waitStart)))
		return env, nil
	}
	if err := m.build(ctx, ip, env, want); err != nil {
		return nil, err
	}
	return env, nil
}

// complete reports whether dir is a finished environment for manifest
// want whose interpreter still exists.
func complete(dir string, want []byte) bool {
	got, err := os.ReadFile(filepath.Join(dir, MarkerName))
	if err != nil || !bytes.Equal(got, want) {
		return false
	}
	_, err = os.Stat(filepath.Join(dir, "bin", "python")) // follows the link to the base interpreter
	return err == nil
}

// InstallError is a failed environment build.
type InstallError struct {
	// Key and Requirements name the environment.
	Key          string
	Requirements Requirements
	// Command is the argv of the step that failed.
	Command []string
	// Output is the tail of the step's combined stdout and stderr.
	Output string
	Err    error
}

func (e *InstallError) Error() string {
	return fmt.Sprintf("python environment %s for %s: %s: %v\n--- output (last %d bytes) ---\n%s",
		e.Key, e.Requirements, strings.Join(e.Command, " "), e.Err, errorOutputBytes, e.Output)
}

func (e *InstallError) Unwrap() error { return e.Err }

// build creates env.Dir from scratch and marks it finished. The caller
// holds the key's file lock.
func (m *Manager) build(ctx context.Context, ip *interpreter, env *Env, want []byte) (err error) {
	log := m.log.With(slog.String("key", env.Key))
	if _, statErr := os.Lstat(env.Dir); statErr == nil {
		log.Info("removing unfinished python environment", slog.String("dir", env.Dir))
		if rmErr := os.RemoveAll(env.Dir); rmErr != nil {
			return fmt.Errorf("python environment %s: removing unfinished build: %w", env.Key, rmErr)
		}
	}
	m.builds.Add(1)
	start := time.Now()
	tmpRoot := filepath.Join(m.root, ".tmp")
	if err := os.MkdirAll(tmpRoot, 0o755); err != nil {
		return fmt.Errorf("python environment %s: %w", env.Key, err)
	}
	// Temporary directories of this key left by a build that crashed: the
	// key's lock is held, so no live build owns them.
	if stale, _ := filepath.Glob(filepath.Join(tmpRoot, env.Key+"-*")); len(stale) > 0 {
		for _, d := range stale {
			_ = os.RemoveAll(d)
		}
	}
	tmp, err := os.MkdirTemp(tmpRoot, env.Key+"-")
	if err != nil {
		return fmt.Errorf("python environment %s: %w", env.Key, err)
	}
	defer func() { _ = os.RemoveAll(tmp) }()
	defer func() {
		if err != nil {
			_ = os.RemoveAll(env.Dir)
		}
	}()

	backend := m.backend(ip)
	log.Info("building python environment", slog.String("backend", backend.name),
		slog.String("requirements", env.Requirements.String()), slog.String("interpreter", ip.exe))
	environ := m.installEnviron(tmp)
	for _, step := range backend.steps(ip, env) {
		stepStart := time.Now()
		out, runErr := m.run(ctx, step, environ)
		if runErr != nil {
			log.Warn("python environment build failed", slog.String("step", step[0]+" "+step[1]),
				slog.Any("error", runErr))
			return &InstallError{Key: env.Key, Requirements: env.Requirements, Command: step,
				Output: out, Err: runErr}
		}
		log.Debug("python environment step done", slog.String("step", strings.Join(step, " ")),
			slog.Duration("elapsed", time.Since(stepStart)))
	}
	if err := writeMarker(env.Dir, want); err != nil {
		return fmt.Errorf("python environment %s for %s: %w", env.Key, env.Requirements, err)
	}
	log.Info("python environment built", slog.String("backend", backend.name),
		slog.Duration("elapsed", time.Since(start)))
	return nil
}

// writeMarker writes the manifest as the completion marker, atomically
// and durably, so that a crash leaves either no marker or a whole one.
func writeMarker(dir string, manifest []byte) error {
	tmp := filepath.Join(dir, MarkerName+".tmp")
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return fmt.Errorf("writing completion marker: %w", err)
	}
	_, werr := f.Write(manifest)
	serr := f.Sync()
	cerr := f.Close()
	if err := errors.Join(werr, serr, cerr); err != nil {
		return fmt.Errorf("writing completion marker: %w", err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, MarkerName)); err != nil {
		return fmt.Errorf("writing completion marker: %w", err)
	}
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		_ = d.Close()
	}
	return nil
}

// uvPath returns the uv executable to build with, or "" for none. An
// unset Options.UV is looked up in PATH once.
func (m *Manager) uvPath() string {
	if m.disableUV {
		return ""
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.uv == "" {
		if p, err := exec.LookPath("uv"); err == nil {
			m.uv = p
		} else {
			m.uv = "-" // looked up, not found
		}
	}
	if m.uv == "-" {
		return ""
	}
	return m.uv
}
