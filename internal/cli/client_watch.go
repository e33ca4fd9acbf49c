package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/weir-dev/weir/internal/report"
	"github.com/weir-dev/weir/internal/run"
)

// remoteLogs prints a task's log from the server; with follow, as it is
// written, until the attempt ends.
func (e *env) remoteLogs(ctx context.Context, cl *client, runID, task string, attempt int, follow bool) error {
	q := url.Values{}
	if attempt > 0 {
		q.Set("attempt", strconv.Itoa(attempt))
	}
	if follow {
		q.Set("follow", "true")
	}
	resp, err := cl.request(ctx, "GET", "/apis/weir/v1/runs/"+url.PathEscape(runID)+"/tasks/"+escapePath(task)+"/logs", q, nil, "")
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if _, err := io.Copy(e.stdout, resp.Body); err != nil {
		return fmt.Errorf("logs of %s: %w", task, err)
	}
	return nil
}

// event is one server-sent event.
type event struct {
	name string
	data []byte
}

// eventStream reads server-sent events.
type eventStream struct {
	body io.ReadCloser
	br   *bufio.Reader
}

// events subscribes to the state changes of a run. It returns once the
// server has subscribed: no later change can be missed.
func (c *client) events(ctx context.Context, runID string) (*eventStream, error) {
	resp, err := c.request(ctx, "GET", "/apis/weir/v1/events", url.Values{"run": {runID}}, nil, "")
	if err != nil {
		return nil, err
	}
	return &eventStream{body: resp.Body, br: bufio.NewReader(resp.Body)}, nil
}

// next returns the next event; comments (keep-alives) are skipped.
func (s *eventStream) next() (event, error) {
	var ev event
	for {
		line, err := s.br.ReadString('\n')
		if err != nil {
			return ev, err
		}
		line = strings.TrimRight(line, "\r\n")
		switch {
		case line == "":
			if ev.name != "" {
				return ev, nil
			}
			ev = event{}
		case strings.HasPrefix(line, ":"):
		case strings.HasPrefix(line, "event:"):
			ev.name = strings.TrimSpace(strings.TrimPrefix(line, "event:"))
		case strings.HasPrefix(line, "data:"):
			ev.data = append(ev.data, strings.TrimPrefix(strings.TrimPrefix(line, "data:"), " ")...)
		}
	}
}

func (s *eventStream) Close() error { return s.body.Close() }

func newWatchCmd(e *env, cf *clientFlags) *cobra.Command {
	var output string
	c := &cobra.Command{
		Use:   "watch RUN",
		Short: "Follow a run on a weir server: print its tasks' state changes until it ends",
		Long: `Follow a run on a weir server: print every task's state changes until the run
ends. With -o json, every event is printed as one JSON object per line.

Exit status: 0 the run succeeded, 1 it failed or was canceled.`,
		Args: exactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			if err := checkOutput(output); err != nil {
				return err
			}
			cl, err := e.needClient(cf)
			if err != nil {
				return err
			}
			return e.watch(c.Context(), cl, args[0], output == "json")
		},
	}
	c.Flags().StringVarP(&output, "output", "o", "text", "output format: text or json (one event per line)")
	return c
}

// watcher prints a run's changes, each task's state once.
type watcher struct {
	e    *env
	json bool
	seen map[string]string // task path -> what was last printed of it
}

func (e *env) watch(ctx context.Context, cl *client, id string, asJSON bool) error {
	w := &watcher{e: e, json: asJSON, seen: map[string]string{}}
	sum, _, err := cl.summary(ctx, id)
	if err != nil {
		return err
	}
	var stream *eventStream
	if !sum.State.Terminal() {
		if stream, err = cl.events(ctx, sum.RunID); err != nil {
			return err
		}
		defer stream.Close()
		// Subscribed: what happened before is in this fetch, what happens
		// after comes as events.
		if sum, _, err = cl.summary(ctx, sum.RunID); err != nil {
			return err
		}
	}
	w.snapshot(sum)
	for !sum.State.Terminal() {
		ev, err := stream.next()
		if err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				return fmt.Errorf("the server closed the event stream before run %s ended", sum.RunID)
			}
			return fmt.Errorf("events of run %s: %w", sum.RunID, err)
		}
		ended, err := w.event(ev)
		if err != nil {
			return err
		}
		if ended || ev.name == "resync" {
			if sum, _, err = cl.summary(ctx, sum.RunID); err != nil {
				return err
			}
			w.snapshot(sum)
		}
	}
	if !w.json {
		fmt.Fprintf(e.stdout, "\nrun %s %s in %s\n", sum.RunID, sum.State, report.FormatDuration(sum.DurationMS))
		if sum.Error != "" && sum.State != run.Succeeded {
			fmt.Fprintf(e.stdout, "error: %s\n", sum.Error)
		}
	}
	if sum.State != run.Succeeded {
		return &ExitError{Code: ExitFailed}
	}
	return nil
}

// watchedTask is the data of a task event.
type watchedTask struct {
	Task         string    `json:"task"`
	State        run.Phase `json:"state"`
	Error        string    `json:"error"`
	Attempt      int       `json:"attempt"`
	AttemptState run.Phase `json:"attempt_state"`
	ExitCode     *int      `json:"exit_code"`
}

// event prints a task event; it reports whether the event says that the
// run ended.
func (w *watcher) event(ev event) (bool, error) {
	if w.json && ev.name != "resync" {
		fmt.Fprintf(w.e.stdout, "{\"event\":%q,\"data\":%s}\n", ev.name, ev.data)
	}
	switch ev.name {
	case "task":
		var t watchedTask
		if err := json.Unmarshal(ev.data, &t); err != nil {
			return false, fmt.Errorf("unexpected event %s: %w", ev.data, err)
		}
		w.task(t)
	case "run":
		var r struct {
			State run.Phase `json:"state"`
		}
		if err := json.Unmarshal(ev.data, &r); err != nil {
			return false, fmt.Errorf("unexpected event %s: %w", ev.data, err)
		}
		return r.State.Terminal(), nil
	}
	return false, nil
}

// snapshot prints the tasks whose state differs from what was printed.
func (w *watcher) snapshot(sum *report.Run) {
	for _, t := range sum.Tasks {
		wt := watchedTask{Task: t.Name, State: t.State, Error: t.Error, Attempt: t.Attempts, ExitCode: t.ExitCode}
		if n := len(t.Attempt); n > 0 {
			wt.AttemptState = t.Attempt[n-1].State
		}
		if w.json {
			w.seen[t.Name] = w.line(wt)
			continue
		}
		w.task(wt)
	}
}

func (w *watcher) task(t watchedTask) {
	line := w.line(t)
	if w.seen[t.Task] == line {
		return
	}
	w.seen[t.Task] = line
	if !w.json {
		fmt.Fprintf(w.e.stdout, "%s %s\n", time.Now().Format("15:04:05"), line)
	}
}

// line describes a task's state, e.g. "train running (attempt 2)" or
// "train failed (exit 3): ...".
func (w *watcher) line(t watchedTask) string {
	s := t.Task + " " + string(t.State)
	switch {
	case t.State == run.Running && t.Attempt > 0 && t.AttemptState.Terminal():
		s += fmt.Sprintf(" (attempt %d %s, retrying)", t.Attempt, t.AttemptState)
	case t.State == run.Running && t.Attempt > 0:
		s += fmt.Sprintf(" (attempt %d)", t.Attempt)
	case t.State == run.Failed && t.ExitCode != nil:
		s += fmt.Sprintf(" (exit %d)", *t.ExitCode)
	}
	if t.Error != "" && (t.State == run.Failed || t.State == run.Canceled || t.State == run.Skipped) {
		s += ": " + strip(t.Error)
	}
	return s
}
