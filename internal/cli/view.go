package cli

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/term"

	"github.com/weir-dev/weir/internal/engine"
	"github.com/weir-dev/weir/internal/run"
)

// view shows a run's progress on stderr: a live table redrawn in place on a
// terminal, one line per state change otherwise; with verbose, every task's
// output streamed with a task prefix.
type view struct {
	w       io.Writer
	enabled bool // text output: show progress
	live    bool // redraw in place
	verbose bool

	mu      sync.Mutex
	rows    []string
	tasks   map[string]*row
	drawn   int
	dirty   bool
	done    chan struct{}
	wg      sync.WaitGroup       // the redraw loop
	tailWG  sync.WaitGroup       // log followers
	tails   map[string]*follower // attempt id -> its log follower
	started time.Time
}

type row struct {
	state   run.Phase
	start   time.Time
	end     time.Time
	attempt int
	iters   map[string]run.Phase // a loop's iterations
}

// counts summarises a loop's iterations, e.g. "3/10 done, 2 running".
func (r *row) counts() string {
	if r.iters == nil {
		return ""
	}
	by := map[run.Phase]int{}
	for _, ph := range r.iters {
		by[ph]++
	}
	done := by[run.Succeeded] + by[run.Cached] + by[run.Skipped]
	s := fmt.Sprintf("  %d/%d done", done, len(r.iters))
	if by[run.Running] > 0 {
		s += fmt.Sprintf(", %d running", by[run.Running])
	}
	if by[run.Failed] > 0 {
		s += fmt.Sprintf(", %d failed", by[run.Failed])
	}
	return s
}

func newView(e *env, enabled, verbose bool) *view {
	v := &view{w: e.stderr, enabled: enabled, verbose: verbose, tasks: map[string]*row{},
		tails: map[string]*follower{}, done: make(chan struct{})}
	if f, ok := e.stderr.(*os.File); ok && enabled && !verbose && term.IsTerminal(int(f.Fd())) {
		v.live = true
	}
	return v
}

func (v *view) start(r *run.Run) {
	v.started = time.Now()
	if v.enabled {
		fmt.Fprintf(v.w, "run %s (%s)\n", r.ID, r.DisplayName)
	}
	if !v.live {
		return
	}
	v.wg.Add(1)
	go func() {
		defer v.wg.Done()
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				v.mu.Lock()
				v.redraw()
				v.mu.Unlock()
			case <-v.done:
				return
			}
		}
	}()
}

func (v *view) stop() {
	close(v.done)
	v.wg.Wait()
	// Followers print what is left of their logs before the summary.
	v.mu.Lock()
	for id, fl := range v.tails {
		fl.drain(v.w, true)
		close(fl.stop)
		delete(v.tails, id)
	}
	v.mu.Unlock()
	v.tailWG.Wait()
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.live {
		v.dirty = true
		v.redraw()
	}
}

// observer is what the engine should call with its events: nothing when
// the view shows nothing (-o json without -v), which spares the engine
// copying every change for it.
func (v *view) observer() func(engine.Event) {
	if !v.enabled && !v.verbose {
		return nil
	}
	return v.observe
}

// observe is the engine's callback: it must return quickly.
func (v *view) observe(ev engine.Event) {
	if ev.Task == nil {
		return
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	t := ev.Task
	if ev.Attempt != nil {
		v.follow(t.Path, ev.Attempt)
	}
	if loop, inside := loopOf(t.Path); inside {
		// Iterations are counted on their loop's row; only failures
		// inside them get a line of their own.
		if t.Kind == run.KindIteration {
			lr := v.tasks[loop]
			if lr != nil {
				if lr.iters == nil {
					lr.iters = map[string]run.Phase{}
				}
				lr.iters[t.Path] = t.Phase
				v.dirty = true
			}
		}
		if v.enabled && t.Phase == run.Failed {
			v.line(t)
		}
		return
	}
	r := v.tasks[t.Path]
	if r == nil {
		r = &row{}
		v.tasks[t.Path] = r
		v.rows = append(v.rows, t.Path)
	}
	changed := r.state != t.Phase
	r.state, r.start, r.end = t.Phase, t.StartedAt, t.FinishedAt
	if ev.Attempt != nil {
		r.attempt = ev.Attempt.Number
	}
	v.dirty = true
	if v.enabled && !v.live && changed && t.Phase != run.Pending {
		v.line(t)
	}
}

// line prints one state change (plain mode, and failures inside loops);
// the caller holds mu.
func (v *view) line(t *run.TaskRun) {
	if v.live {
		return // the table shows it; a failure is listed in the summary
	}
	line := fmt.Sprintf("%-8s %s", t.Phase, t.Path)
	if t.Phase.Terminal() && !t.StartedAt.IsZero() {
		line += " (" + formatDuration(t.FinishedAt.Sub(t.StartedAt).Milliseconds()) + ")"
	}
	if t.Phase == run.Failed && t.Error != "" {
		line += ": " + strip(t.Error)
	}
	fmt.Fprintln(v.w, line)
}

var marks = map[run.Phase]string{
	run.Pending: "·", run.Running: "▶", run.Succeeded: "✔", run.Failed: "✘",
	run.Skipped: "-", run.Cached: "≡", run.Canceled: "⊘",
}

// redraw repaints the table in place; the caller holds mu.
func (v *view) redraw() {
	if !v.dirty {
		return
	}
	v.dirty = false
	var b strings.Builder
	if v.drawn > 0 {
		fmt.Fprintf(&b, "\x1b[%dA", v.drawn)
	}
	now := time.Now()
	for _, path := range v.rows {
		r := v.tasks[path]
		d := ""
		switch {
		case !r.start.IsZero() && !r.end.IsZero():
			d = formatDuration(r.end.Sub(r.start).Milliseconds())
		case !r.start.IsZero():
			d = formatDuration(now.Sub(r.start).Milliseconds())
			v.dirty = true // keep the clock moving
		}
		fmt.Fprintf(&b, "\x1b[2K %s %-40s %-10s %s%s\n", marks[r.state], path, r.state, d, r.counts())
	}
	v.drawn = len(v.rows)
	io.WriteString(v.w, b.String())
}

// follow streams an attempt's log with a task prefix while it runs (with
// verbose); the caller holds mu. When the attempt ends, what is left of its
// log is printed at once, before the state change that follows.
func (v *view) follow(task string, a *run.Attempt) {
	if !v.verbose || a.LogPath == "" {
		return
	}
	if fl, ok := v.tails[a.ID]; ok {
		if a.Phase.Terminal() {
			fl.drain(v.w, true)
			close(fl.stop)
			delete(v.tails, a.ID)
		}
		return
	}
	fl := &follower{task: task, path: a.LogPath, stop: make(chan struct{})}
	if a.Phase.Terminal() {
		fl.drain(v.w, true)
		return
	}
	v.tails[a.ID] = fl
	v.tailWG.Add(1)
	go func() {
		defer v.tailWG.Done()
		t := time.NewTicker(50 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-fl.stop:
				return
			case <-t.C:
				v.mu.Lock()
				fl.drain(v.w, false)
				v.mu.Unlock()
			}
		}
	}()
}

// follower reads one attempt's log as it grows. Its methods run under the
// view's mutex.
type follower struct {
	task, path string
	f          *os.File
	rd         *bufio.Reader
	partial    string
	stop       chan struct{}
}

// drain prints the complete lines written so far; with final, also an
// unterminated last line, and closes the file.
func (fl *follower) drain(w io.Writer, final bool) {
	if fl.f == nil {
		f, err := os.Open(fl.path)
		if err != nil {
			return
		}
		fl.f, fl.rd = f, bufio.NewReader(f)
	}
	for {
		line, err := fl.rd.ReadString('\n')
		fl.partial += line
		if err != nil {
			break
		}
		fmt.Fprintf(w, "[%s] %s", fl.task, fl.partial)
		fl.partial = ""
	}
	if final {
		if fl.partial != "" {
			fmt.Fprintf(w, "[%s] %s\n", fl.task, fl.partial)
			fl.partial = ""
		}
		fl.f.Close()
	}
}
