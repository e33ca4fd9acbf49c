package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"strconv"
	"time"

	"github.com/weir-dev/weir/internal/run"
)

// taskLogs serves GET /apis/weir/v1/runs/{run}/tasks/{task...}/logs: the
// combined output of an attempt (?attempt=N, default the last) as plain
// text; with ?follow=true the output is streamed as it grows, until the
// attempt has ended and all of it was sent. Following the last attempt of
// a task that has not started yet waits for it to start (the stream ends
// empty if the task ends without running).
func (s *Server) taskLogs(w http.ResponseWriter, r *http.Request) {
	task, ok := cutLogs(r.PathValue("rest"))
	if !ok {
		writeError(w, fmt.Errorf("no such endpoint %s: %w", r.URL.Path, errNotFound))
		return
	}
	number := 0
	if v := r.URL.Query().Get("attempt"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			writeError(w, badRequest("attempt=%q: want an attempt number (1, 2, ...)", v))
			return
		}
		number = n
	}
	follow, err := queryBool(r, "follow")
	if err != nil {
		writeError(w, err)
		return
	}
	snap, err := s.store.Snapshot(r.Context(), r.PathValue("run"))
	if err != nil {
		writeError(w, err)
		return
	}
	tr, a, err := findAttempt(snap, task, number)
	if err != nil {
		if follow && number == 0 && tr != nil && !tr.Phase.Terminal() {
			s.followLog(w, r, snap.Run.ID, tr, nil, nil)
			return
		}
		writeError(w, err)
		return
	}
	f, err := openLog(a)
	if err != nil {
		writeError(w, fmt.Errorf("logs of %s attempt %d: %w", tr.Path, a.Number, err))
		return
	}
	if !follow || a.Phase.Terminal() {
		streamHeaders(w, "text/plain; charset=utf-8")
		if f != nil {
			defer f.Close()
			_, _ = io.Copy(w, f)
		}
		return
	}
	s.followLog(w, r, snap.Run.ID, tr, a, f)
}

// openLog opens an attempt's log; it returns nil when the log does not
// exist yet because the attempt has not written it.
func openLog(a *run.Attempt) (*os.File, error) {
	if a.LogPath == "" {
		if a.Phase.Terminal() {
			return nil, fmt.Errorf("the attempt has no log: %w", errNotFound)
		}
		return nil, nil
	}
	f, err := os.Open(a.LogPath)
	if errors.Is(err, fs.ErrNotExist) {
		if a.Phase.Terminal() {
			return nil, fmt.Errorf("the log is gone: %w", errNotFound)
		}
		return nil, nil
	}
	return f, err
}

// followLog streams an attempt's log as it grows; with a nil attempt it
// first waits for the task's first attempt. The file is polled for new
// output; the attempt's start and end are learned from the engine's events
// or, as a fallback, from the store. After the end the file is read to its
// end once more, so nothing written before the process exited is lost.
func (s *Server) followLog(w http.ResponseWriter, r *http.Request, runID string, tr *run.TaskRun, a *run.Attempt, f *os.File) {
	st := s.cfg.weir
	sub := st.bus.subscribe(runID)
	defer st.bus.unsubscribe(sub)
	defer func() {
		if f != nil {
			f.Close()
		}
	}()
	streamHeaders(w, "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	flush(w)

	ctx := r.Context()
	poll := time.NewTicker(st.logPoll)
	defer poll.Stop()
	lastCheck := time.Now()
	// check is set when the store must be asked: for the attempt to
	// follow while there is none, for its end afterwards.
	ended, check := false, a == nil
	for {
		if check {
			check = false
			if a == nil {
				var over bool
				if a, over = s.firstAttempt(ctx, runID, tr.ID); a == nil {
					if over {
						return // the task ended without running
					}
				} else {
					ended = a.Phase.Terminal()
				}
			} else {
				ended = s.attemptEnded(ctx, runID, a.ID)
			}
		}
		if f == nil && a != nil && a.LogPath != "" {
			if g, err := os.Open(a.LogPath); err == nil {
				f = g
			}
		}
		if f != nil {
			n, err := io.Copy(w, f)
			if err != nil {
				return // the client went away, or the file cannot be read
			}
			if n > 0 {
				flush(w)
			}
		}
		if ended {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-st.closed:
			return
		case ev := <-sub.ch:
			if a == nil {
				check = ev.taskRunID == tr.ID
			} else {
				ended = ev.attemptID == a.ID && ev.ended
			}
		case <-sub.lost:
			check = true
		case <-poll.C:
			if time.Since(lastCheck) >= st.storePoll {
				lastCheck, check = time.Now(), true
			}
		}
	}
}

// firstAttempt returns the task's latest attempt, or nil and whether the
// task (or its run) is over.
func (s *Server) firstAttempt(ctx context.Context, runID, taskRunID string) (*run.Attempt, bool) {
	snap, err := s.store.Snapshot(ctx, runID)
	if err != nil {
		return nil, ctx.Err() == nil
	}
	var last *run.Attempt
	for _, a := range snap.Attempts {
		if a.TaskRunID == taskRunID {
			last = a
		}
	}
	if last != nil {
		return last, false
	}
	for _, t := range snap.TaskRuns {
		if t.ID == taskRunID {
			return nil, t.Phase.Terminal()
		}
	}
	return nil, true
}

// attemptEnded reports whether the store records the attempt as ended (or
// no longer has it).
func (s *Server) attemptEnded(ctx context.Context, runID, attemptID string) bool {
	snap, err := s.store.Snapshot(ctx, runID)
	if err != nil {
		return ctx.Err() == nil // the run is gone: nothing more will be written
	}
	for _, a := range snap.Attempts {
		if a.ID == attemptID {
			return a.Phase.Terminal()
		}
	}
	return true
}
