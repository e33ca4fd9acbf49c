// Package harness holds what the end-to-end suites (test/e2e, test/browser)
// share: the executables they are handed through the environment, the test
// pipelines they compile with the real kfp SDK, and the `weir server`
// processes they drive.
package harness

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Executable reads the environment variable env, which must name an
// executable file (def when it is unset), and returns its absolute path.
// what says what the file is, and how how to get it, for the error.
func Executable(env, def, what, how string) (string, error) {
	v := os.Getenv(env)
	if v == "" {
		v = def
	}
	if v == "" {
		return "", fmt.Errorf("%s is not set: it must name %s; %s", env, what, how)
	}
	abs, err := filepath.Abs(v)
	if err != nil {
		return "", fmt.Errorf("%s=%s: %w", env, v, err)
	}
	fi, err := os.Stat(abs)
	if err != nil {
		return "", fmt.Errorf("%s=%s: %w; it must name %s", env, v, err, what)
	}
	if fi.IsDir() || fi.Mode()&0o111 == 0 {
		return "", fmt.Errorf("%s=%s is not an executable file; it must name %s", env, v, what)
	}
	return abs, nil
}

// Sources returns the pipeline sources of a suite: every *.py in dir, by
// file stem, plus extra (name to path). Paths are absolute.
func Sources(dir string, extra map[string]string) (map[string]string, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.py"))
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("no pipelines found in %s", dir)
	}
	out := map[string]string{}
	for name, p := range extra {
		out[name] = p
	}
	for _, f := range files {
		abs, err := filepath.Abs(f)
		if err != nil {
			return nil, err
		}
		out[strings.TrimSuffix(filepath.Base(f), ".py")] = abs
	}
	return out, nil
}

// Compile runs `python SOURCE OUT.yaml` for every source (name to path), two
// at a time, and returns the compiled files by name. Every failure is
// reported, with the compiler's output.
func Compile(python string, sources map[string]string, outDir string) (Compiled, error) {
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return nil, err
	}
	var (
		mu       sync.Mutex
		errs     []string
		wg       sync.WaitGroup
		sem      = make(chan struct{}, 2)
		compiled = Compiled{}
	)
	for name, src := range sources {
		out := filepath.Join(outDir, name+".yaml")
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			cmd := exec.Command(python, src, out)
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
		return nil, errors.New(strings.Join(errs, "\n"))
	}
	return compiled, nil
}

// Compiled maps a test pipeline's name to its compiled YAML.
type Compiled map[string]string

// CompileSuite compiles a suite's pipelines (every *.py in dir) and the iris
// example into outDir with python.
func CompileSuite(python, repoRoot, dir, outDir string) (Compiled, error) {
	sources, err := Sources(dir, map[string]string{"iris": filepath.Join(repoRoot, "examples", "iris", "pipeline.py")})
	if err != nil {
		return nil, err
	}
	return Compile(python, sources, outDir)
}

// File returns the compiled YAML of a pipeline, failing the test when it
// was not compiled.
func (c Compiled) File(t testing.TB, name string) string {
	t.Helper()
	p, ok := c[name]
	if !ok {
		t.Fatalf("pipeline %q was not compiled", name)
	}
	return p
}

// FreeAddr returns a 127.0.0.1 address with a port that was free a moment
// ago.
func FreeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// Server is a `weir server` process. Its output goes to Home/server.log.
type Server struct {
	Cmd  *exec.Cmd
	URL  string
	Home string
	log  *os.File
}

// StartServer runs `bin server --addr addr args...` with WEIR_HOME=home
// (and WEIR_PYENV_ROOT=pyenvRoot when set) and waits until it listens. An
// empty addr picks a free port.
func StartServer(bin, home, pyenvRoot, addr string, args ...string) (*Server, error) {
	if addr == "" {
		var err error
		if addr, err = FreeAddr(); err != nil {
			return nil, err
		}
	}
	logPath := filepath.Join(home, "server.log")
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, append([]string{"server", "--addr", addr}, args...)...)
	cmd.Env = append(os.Environ(), "WEIR_HOME="+home)
	if pyenvRoot != "" {
		cmd.Env = append(cmd.Env, "WEIR_PYENV_ROOT="+pyenvRoot)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("starting %s server: %w", bin, err)
	}
	s := &Server{Cmd: cmd, URL: "http://" + addr, Home: home, log: logf}
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return s, nil
		}
	}
	s.Stop()
	b, _ := os.ReadFile(logPath)
	return nil, fmt.Errorf("weir server did not listen on %s; log:\n%s", addr, b)
}

// Log returns what the server has written so far.
func (s *Server) Log() string {
	b, _ := os.ReadFile(filepath.Join(s.Home, "server.log"))
	return string(b)
}

// Stop asks the server to stop (SIGTERM), kills it after 10 s, and waits
// for it. Stopping a stopped server does nothing.
func (s *Server) Stop() {
	if s.Cmd.ProcessState == nil {
		_ = s.Cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = s.Cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = s.Cmd.Process.Kill()
			<-done
		}
	}
	_ = s.log.Close()
}

// Kill stops the server with SIGKILL, as a crash would, and waits for it.
func (s *Server) Kill() error {
	if err := s.Cmd.Process.Signal(syscall.SIGKILL); err != nil {
		return fmt.Errorf("kill weir server: %w", err)
	}
	_ = s.Cmd.Wait()
	_ = s.log.Close()
	return nil
}
