package server

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/weir-dev/weir/internal/engine"
	"github.com/weir-dev/weir/internal/run"
)

// busEvent is one state change, encoded once for every subscriber.
type busEvent struct {
	name  string // "run" or "task": the SSE event name
	runID string
	data  []byte // the JSON of the SSE data line
	// taskRunID, attemptID and ended say which task and attempt a task
	// event is about, and whether the attempt ended.
	taskRunID string
	attemptID string
	ended     bool
}

// subscriber receives the events of one run (or of all runs when run is
// empty) through a bounded buffer. When the buffer is full the event is
// dropped and lost is signalled: the subscriber must refetch the state.
type subscriber struct {
	run  string
	ch   chan busEvent
	lost chan struct{}
}

// broadcaster fans engine events out to subscribers without ever blocking
// the engine: a slow subscriber loses events instead.
type broadcaster struct {
	size int
	mu   sync.Mutex
	subs map[*subscriber]struct{}
}

func newBroadcaster(size int) *broadcaster {
	return &broadcaster{size: size, subs: map[*subscriber]struct{}{}}
}

func (b *broadcaster) subscribe(runID string) *subscriber {
	s := &subscriber{run: runID, ch: make(chan busEvent, b.size), lost: make(chan struct{}, 1)}
	b.mu.Lock()
	b.subs[s] = struct{}{}
	b.mu.Unlock()
	return s
}

func (b *broadcaster) unsubscribe(s *subscriber) {
	b.mu.Lock()
	delete(b.subs, s)
	b.mu.Unlock()
}

func (b *broadcaster) empty() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.subs) == 0
}

func (b *broadcaster) publish(ev busEvent) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for s := range b.subs {
		if s.run != "" && s.run != ev.runID {
			continue
		}
		select {
		case s.ch <- ev:
		default:
			select {
			case s.lost <- struct{}{}:
			default:
			}
		}
	}
}

// runEvent is the data of an `event: run`.
type runEvent struct {
	RunID      string    `json:"run_id"`
	Name       string    `json:"name"`
	Pipeline   string    `json:"pipeline"`
	State      run.Phase `json:"state"`
	Error      string    `json:"error,omitempty"`
	CreatedAt  *string   `json:"created_at,omitempty"`
	StartedAt  *string   `json:"started_at,omitempty"`
	FinishedAt *string   `json:"finished_at,omitempty"`
}

// taskEvent is the data of an `event: task`. The attempt fields are set
// when the change concerns an attempt (it started, or ended).
type taskEvent struct {
	RunID        string    `json:"run_id"`
	Task         string    `json:"task"`
	TaskRunID    string    `json:"task_run_id"`
	Kind         run.Kind  `json:"kind"`
	State        run.Phase `json:"state"`
	Error        string    `json:"error,omitempty"`
	CreatedAt    *string   `json:"created_at,omitempty"`
	StartedAt    *string   `json:"started_at,omitempty"`
	FinishedAt   *string   `json:"finished_at,omitempty"`
	Attempt      int       `json:"attempt,omitempty"`
	AttemptState run.Phase `json:"attempt_state,omitempty"`
	ExitCode     *int      `json:"exit_code,omitempty"`
}

// Observe publishes an engine change to the event streams; pass it as
// engine.Config.Observe. It never blocks. A nil Server ignores events.
func (s *Server) Observe(ev engine.Event) {
	if s == nil {
		return
	}
	s.met.observe(ev)
	if s.cfg.weir == nil || s.cfg.weir.bus.empty() {
		return
	}
	be := busEvent{runID: ev.Run.ID}
	var v any
	if ev.Task == nil {
		r := ev.Run
		be.name = "run"
		v = runEvent{RunID: r.ID, Name: r.DisplayName, Pipeline: r.PipelineName, State: r.Phase, Error: r.Error,
			CreatedAt: stamp(r.CreatedAt), StartedAt: stamp(r.StartedAt), FinishedAt: stamp(r.FinishedAt)}
	} else {
		t := ev.Task
		be.name, be.taskRunID = "task", t.ID
		te := taskEvent{RunID: ev.Run.ID, Task: t.Path, TaskRunID: t.ID, Kind: t.Kind, State: t.Phase, Error: t.Error,
			CreatedAt: stamp(t.CreatedAt), StartedAt: stamp(t.StartedAt), FinishedAt: stamp(t.FinishedAt)}
		if a := ev.Attempt; a != nil {
			te.Attempt, te.AttemptState, te.ExitCode = a.Number, a.Phase, a.ExitCode
			be.attemptID, be.ended = a.ID, a.Phase.Terminal()
		}
		v = te
	}
	data, err := json.Marshal(v)
	if err != nil {
		s.log.Warn("encode event", "err", err)
		return
	}
	be.data = data
	s.cfg.weir.bus.publish(be)
}

// events serves GET /apis/weir/v1/events?run=ID: server-sent events of run
// and task state changes (of one run, or of all), a keep-alive comment
// when nothing happens, and `event: resync` when events were lost (the
// client was too slow) and the state must be fetched again.
func (s *Server) events(w http.ResponseWriter, r *http.Request) {
	st := s.cfg.weir
	runID := r.URL.Query().Get("run")
	if runID != "" {
		rr, err := s.store.GetRun(r.Context(), runID)
		if err != nil {
			writeError(w, err)
			return
		}
		runID = rr.ID
	}
	sub := st.bus.subscribe(runID)
	defer st.bus.unsubscribe(sub)
	// The headers go out once subscribed: a client that has them can fetch
	// the current state knowing that no later change will be missed.
	streamHeaders(w, "text/event-stream")
	w.WriteHeader(http.StatusOK)
	if _, err := fmt.Fprint(w, "retry: 2000\n: subscribed\n\n"); err != nil {
		return
	}
	flush(w)
	keepAlive := time.NewTicker(st.keepAlive)
	defer keepAlive.Stop()
	for {
		var err error
		select {
		case <-r.Context().Done():
			return
		case <-st.closed:
			return
		case ev := <-sub.ch:
			_, err = fmt.Fprintf(w, "event: %s\ndata: %s\n\n", ev.name, ev.data)
		case <-sub.lost:
			// What is still buffered is older than what was dropped: the
			// refetch the client is told to do supersedes it.
			for drained := false; !drained; {
				select {
				case <-sub.ch:
				default:
					drained = true
				}
			}
			data, _ := json.Marshal(map[string]string{"run_id": runID, "reason": "events were dropped for a slow client: fetch the state again"})
			_, err = fmt.Fprintf(w, "event: resync\ndata: %s\n\n", data)
		case <-keepAlive.C:
			_, err = fmt.Fprint(w, ": keep-alive\n\n")
		}
		if err != nil {
			return
		}
		flush(w)
	}
}
