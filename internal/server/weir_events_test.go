package server

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/weir-dev/weir/internal/engine"
	"github.com/weir-dev/weir/internal/run"
)

type sse struct {
	name string
	data map[string]any
	raw  string // comments and other lines
}

// openEvents connects to the event stream and delivers what it reads.
func openEvents(t *testing.T, url string) <-chan sse {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	req, _ := http.NewRequestWithContext(ctx, "GET", url, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("events: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	out := make(chan sse, 1000)
	go func() {
		defer resp.Body.Close()
		defer close(out)
		sc := bufio.NewScanner(resp.Body)
		var ev sse
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if ev.name != "" || ev.raw != "" {
					out <- ev
				}
				ev = sse{}
			case strings.HasPrefix(line, "event: "):
				ev.name = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "data: "):
				_ = json.Unmarshal([]byte(strings.TrimPrefix(line, "data: ")), &ev.data)
			default:
				ev.raw += line + "\n"
			}
		}
	}()
	return out
}

func next(t *testing.T, events <-chan sse) sse {
	t.Helper()
	select {
	case ev, ok := <-events:
		if !ok {
			t.Fatal("the event stream ended")
		}
		return ev
	case <-time.After(20 * time.Second):
		t.Fatal("no event")
	}
	return sse{}
}

func TestEventsOfARealRun(t *testing.T) {
	e := newWeirEnv(t, func(w *weirState) { w.keepAlive = 50 * time.Millisecond })
	events := openEvents(t, e.ts.URL+weirAPI+"/events")
	id := e.submit(t, echoSpec)
	var runStates, taskStates []string
	for {
		ev := next(t, events)
		if ev.name == "" {
			continue // comments
		}
		if ev.data["run_id"] != id {
			t.Fatalf("event of another run: %+v", ev)
		}
		if ev.name == "task" {
			if ev.data["task"] != "say" {
				t.Fatalf("task event = %v", ev.data)
			}
			s := ev.data["state"].(string)
			if a, ok := ev.data["attempt"]; ok {
				s += "/attempt " + weirJSON(a) + " " + ev.data["attempt_state"].(string)
			}
			taskStates = append(taskStates, s)
		}
		if ev.name == "run" {
			runStates = append(runStates, ev.data["state"].(string))
			if ev.data["state"] == "succeeded" {
				if ev.data["started_at"] == nil || ev.data["finished_at"] == nil {
					t.Errorf("run event lacks times: %v", ev.data)
				}
				break
			}
		}
	}
	if got := strings.Join(runStates, ","); got != "running,succeeded" {
		t.Errorf("run states = %s", got)
	}
	want := "pending,running/attempt 1 running,succeeded/attempt 1 succeeded"
	if got := strings.Join(taskStates, ","); got != want {
		t.Errorf("task states = %s, want %s", got, want)
	}

	// A stream of one run: unknown runs are refused; the keep-alive
	// comment comes when nothing happens.
	if code, m := weirGetJSON(t, e.ts.URL+weirAPI+"/events?run=nope"); code != 404 {
		t.Errorf("events of an unknown run: %d %v", code, m)
	}
	one := openEvents(t, e.ts.URL+weirAPI+"/events?run="+id[:13])
	for ev := next(t, one); !strings.Contains(ev.raw, ": keep-alive"); ev = next(t, one) {
	}
}

// blockingWriter is a ResponseWriter whose writes block while held, as a
// client that does not read does once the socket buffers are full.
type blockingWriter struct {
	header http.Header
	mu     sync.Mutex
	buf    strings.Builder
	hold   chan struct{}
	wrote  chan struct{}
	once   sync.Once
}

func (w *blockingWriter) Header() http.Header { return w.header }
func (w *blockingWriter) WriteHeader(int)     {}
func (w *blockingWriter) Flush()              {}
func (w *blockingWriter) Write(b []byte) (int, error) {
	first := false
	w.once.Do(func() { first = true })
	if !first {
		<-w.hold
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(b)
	if first {
		close(w.wrote)
	}
	return len(b), nil
}

func (w *blockingWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

func TestSlowSubscriberDoesNotBlockTheEngine(t *testing.T) {
	e := newWeirEnv(t, func(w *weirState) { w.bus = newBroadcaster(4) })
	w := &blockingWriter{header: http.Header{}, hold: make(chan struct{}), wrote: make(chan struct{})}
	ctx, cancel := context.WithCancel(context.Background())
	req := httptest.NewRequest("GET", weirAPI+"/events", nil).WithContext(ctx)
	done := make(chan struct{})
	go func() { e.srv.events(w, req); close(done) }()
	<-w.wrote // subscribed

	start := time.Now()
	for i := 0; i < 10000; i++ {
		e.srv.Observe(engine.Event{Run: run.Run{ID: "r1", Phase: run.Running}})
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("publishing to a stuck subscriber took %s", took)
	}
	close(w.hold)
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(w.String(), "event: resync") && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	<-done
	out := w.String()
	if !strings.Contains(out, "event: resync") {
		t.Fatalf("no resync after lost events:\n%s", out)
	}
	if n := strings.Count(out, "event: run"); n > 6 {
		t.Errorf("%d run events delivered through a buffer of 4", n)
	}
}
