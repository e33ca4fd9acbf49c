package engine

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/weir-dev/weir/internal/executor"
)

// fakeExecutor is a hand-written executor for engine tests. Attempts end
// when the test says so (or at once with auto), and a successful attempt
// writes an executor output with one parameter "out" whose value names the
// attempt's task, so downstream inputs can be checked.
type fakeExecutor struct {
	mu       sync.Mutex
	changed  chan string
	specs    map[string]executor.Spec
	status   map[string]executor.Status
	started  []string
	running  int
	maxRun   int
	auto     func(spec executor.Spec) (exit int, ok bool) // decides an exit code at start, if ok
	onStart  func(spec executor.Spec)
	canceled map[string]bool
	// silent steps succeed without writing an executor output file, so
	// their work directories stay empty.
	silent bool
}

func newFakeExecutor() *fakeExecutor {
	return &fakeExecutor{changed: make(chan string, 1<<16), specs: map[string]executor.Spec{},
		status: map[string]executor.Status{}, canceled: map[string]bool{}}
}

func (f *fakeExecutor) Start(_ context.Context, s executor.Spec) (executor.Handle, error) {
	f.mu.Lock()
	if _, ok := f.specs[s.AttemptID]; ok {
		f.mu.Unlock()
		return executor.Handle(s.AttemptID), nil
	}
	if len(s.Command) > 0 && s.Command[0] == "no-such-binary" {
		f.mu.Unlock()
		return "", fmt.Errorf("start attempt %s: exec: %q: executable file not found in $PATH", s.AttemptID, s.Command[0])
	}
	f.specs[s.AttemptID] = s
	f.status[s.AttemptID] = executor.Status{State: executor.StateRunning}
	f.started = append(f.started, s.AttemptID)
	f.running++
	if f.running > f.maxRun {
		f.maxRun = f.running
	}
	onStart, auto := f.onStart, f.auto
	f.mu.Unlock()
	if onStart != nil {
		onStart(s)
	}
	if auto != nil {
		if code, ok := auto(s); ok {
			go func() {
				time.Sleep(time.Duration(len(s.AttemptID)%3) * 100 * time.Microsecond)
				f.finish(s.AttemptID, code)
			}()
		}
	}
	return executor.Handle(s.AttemptID), nil
}

// finish ends an attempt with an exit code.
func (f *fakeExecutor) finish(id string, code int) {
	f.mu.Lock()
	s := f.specs[id]
	if f.status[id].State != executor.StateRunning {
		f.mu.Unlock()
		return
	}
	if code == 0 && !f.silent {
		task := taskFromLog(s.LogPath)
		_ = os.WriteFile(filepath.Join(s.Dir, "executor_output.json"),
			[]byte(fmt.Sprintf(`{"parameterValues":{"out":%q}}`, task)), 0o644)
	} else if code != 0 {
		_ = os.MkdirAll(filepath.Dir(s.LogPath), 0o755)
		_ = os.WriteFile(s.LogPath, []byte("doing work\nboom: something broke\n"), 0o644)
	}
	f.status[id] = executor.Status{State: executor.StateExited, ExitCode: code}
	f.running--
	f.mu.Unlock()
	f.changed <- id
}

// taskFromLog recovers the task path from runs/<run>/<dotted path>.<n>.log.
func taskFromLog(p string) string {
	name := strings.TrimSuffix(filepath.Base(p), ".log")
	return strings.ReplaceAll(name[:strings.LastIndexByte(name, '.')], ".", "/")
}

func (f *fakeExecutor) Poll(_ context.Context, h executor.Handle) (executor.Status, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	st, ok := f.status[string(h)]
	if !ok {
		return executor.Status{}, fmt.Errorf("unknown handle %q", h)
	}
	return st, nil
}

func (f *fakeExecutor) Cancel(_ context.Context, h executor.Handle) error {
	f.mu.Lock()
	id := string(h)
	if f.status[id].State != executor.StateRunning {
		f.mu.Unlock()
		return nil
	}
	f.status[id] = executor.Status{State: executor.StateCanceled}
	f.canceled[id] = true
	f.running--
	f.mu.Unlock()
	f.changed <- id
	return nil
}

func (f *fakeExecutor) Logs(_ context.Context, h executor.Handle) (io.ReadCloser, error) {
	f.mu.Lock()
	s := f.specs[string(h)]
	f.mu.Unlock()
	return os.Open(s.LogPath)
}

func (f *fakeExecutor) Changed() <-chan string { return f.changed }
