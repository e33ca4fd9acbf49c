package journal

import (
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/weir-dev/weir/internal/run"
)

var t0 = time.Date(2026, 11, 27, 8, 0, 0, 123456789, time.UTC)

// sample is a batch with every kind of change and awkward values: text
// that needs escaping, invalid UTF-8, big integers, nested values.
func sample() *run.Changes {
	code := 3
	return &run.Changes{
		NewRuns: []*run.Run{{ID: "r0", PipelineName: "p", Spec: []byte("spec: 1"), Parameters: map[string]any{"n": int64(1)},
			Options: run.Options{Parallelism: 2}, Phase: run.Pending, CreatedAt: t0}},
		Runs: []*run.Run{{ID: "r1", Phase: run.Failed, Error: "task \"a\" failed:\n\texit 3", StartedAt: t0, FinishedAt: t0.Add(time.Second),
			Spec: []byte("not journaled")}},
		NewTaskRuns: []*run.TaskRun{{ID: "t1", RunID: "r1", Path: "loop/it.0/a", Name: "a", ParentID: "t0", Component: "comp-a",
			Kind: run.KindContainer, Phase: run.Running, Inputs: map[string]any{"item": "x\x00y\u2028z", "bad": "\xff\xfe"}, CreatedAt: t0, StartedAt: t0}},
		TaskRuns: []*run.TaskRun{{ID: "t2", RunID: "r1", Path: "b", Name: "b", Kind: run.KindDAG, Phase: run.Succeeded,
			Inputs:  map[string]any{"big": int64(1) << 60, "f": 0.5, "l": []any{"a", int64(2)}, "m": map[string]any{"k": true}},
			Outputs: map[string]any{}, CacheKey: "k", CachedFrom: "at0", CreatedAt: t0, FinishedAt: t0}},
		NewAttempts: []*run.Attempt{{ID: "a1", TaskRunID: "t1", Number: 1, Phase: run.Running, LogPath: "/l o g", CreatedAt: t0, StartedAt: t0}},
		Attempts:    []*run.Attempt{{ID: "a0", TaskRunID: "t2", Number: 2, Phase: run.Failed, Handle: `{"v":1}`, ExitCode: &code, Error: "boom\\", FinishedAt: t0}},
		NewArtifacts: []*run.Artifact{{ID: "ar1", RunID: "r1", URI: "file:///x y", SchemaTitle: "system.Dataset", SchemaVersion: "0.0.1",
			Metadata: map[string]any{"rows": int64(9007199254740993)}, Digest: "sha256:00", Size: 42, CreatedAt: t0}},
		Events: []*run.ArtifactEvent{{ArtifactID: "ar1", TaskRunID: "t1", AttemptID: "a1", Kind: run.EventOutput, Name: "out", Index: 1, CreatedAt: t0}},
	}
}

// reflectWire is what encoding/json writes for a batch: the reference the
// hand-written encoder must match.
func reflectWire(c *run.Changes) wire {
	out := wire{NewRuns: c.NewRuns, NewTaskRuns: c.NewTaskRuns, TaskRuns: c.TaskRuns, NewAttempts: c.NewAttempts,
		Attempts: c.Attempts, NewArtifacts: c.NewArtifacts, Events: c.Events}
	for _, r := range c.Runs {
		out.Runs = append(out.Runs, runUpdate{ID: r.ID, Phase: r.Phase, Error: r.Error, StartedAt: r.StartedAt, FinishedAt: r.FinishedAt})
	}
	return out
}

func TestEncoderMatchesEncodingJSON(t *testing.T) {
	for _, c := range []*run.Changes{sample(), {}, {TaskRuns: []*run.TaskRun{{ID: "only"}}}} {
		mine, err := appendChanges(nil, c)
		if err != nil {
			t.Fatal(err)
		}
		ref, err := json.Marshal(reflectWire(c))
		if err != nil {
			t.Fatal(err)
		}
		if !json.Valid(mine) {
			t.Fatalf("encoder wrote invalid JSON: %s", mine)
		}
		got, err := decode([]byte(`{"seq":1,"changes":` + string(mine) + "}"))
		if err != nil {
			t.Fatalf("decode own encoding: %v\n%s", err, mine)
		}
		want, err := decode([]byte(`{"seq":1,"changes":` + string(ref) + "}"))
		if err != nil {
			t.Fatalf("decode encoding/json's: %v", err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("decoded differently:\n own %s\n ref %s", mine, ref)
		}
	}
}

// TestEncoderRejectsWhatEncodingJSONRejects: a time RFC 3339 cannot
// express, or a NaN parameter, fails the append as it fails json.Marshal,
// rather than going into a record Read could not decode.
func TestEncoderRejectsWhatEncodingJSONRejects(t *testing.T) {
	far := time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)
	for name, c := range map[string]*run.Changes{
		"task run":  {TaskRuns: []*run.TaskRun{{ID: "t", FinishedAt: far}}},
		"run":       {Runs: []*run.Run{{ID: "r", StartedAt: far}}},
		"attempt":   {NewAttempts: []*run.Attempt{{ID: "a", CreatedAt: far}}},
		"artifact":  {NewArtifacts: []*run.Artifact{{ID: "ar", CreatedAt: far}}},
		"event":     {Events: []*run.ArtifactEvent{{ArtifactID: "ar", CreatedAt: far}}},
		"parameter": {TaskRuns: []*run.TaskRun{{ID: "t", Outputs: map[string]any{"x": []any{math.NaN()}}}}},
	} {
		if _, err := json.Marshal(reflectWire(c)); err == nil {
			t.Fatalf("%s: encoding/json accepts it", name)
		}
		if b, err := appendChanges(nil, c); err == nil {
			t.Errorf("%s: encoded as %s, want an error", name, b)
		}
	}
}

func TestAppendReadRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "runs", "r1", "journal")
	w, err := Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	for seq := int64(1); seq <= 3; seq++ {
		if _, err := w.Append(seq, sample()); err != nil {
			t.Fatal(err)
		}
	}
	recs, err := Read(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 3 || recs[0].Seq != 1 || recs[2].Seq != 3 {
		t.Fatalf("records = %+v", recs)
	}
	c := recs[0].Changes
	tr := c.TaskRuns[0]
	if n, ok := tr.Inputs["big"].(json.Number); !ok || n.String() != "1152921504606846976" {
		t.Errorf("big integer input came back as %#v", tr.Inputs["big"])
	}
	if got := c.NewTaskRuns[0].Inputs["item"]; got != "x\x00y\u2028z" {
		t.Errorf("escaped input = %q", got)
	}
	if c.Runs[0].Spec != nil || c.Runs[0].Error != sample().Runs[0].Error || !c.Runs[0].FinishedAt.Equal(t0.Add(time.Second)) {
		t.Errorf("run update = %+v", c.Runs[0])
	}
	if a := c.Attempts[0]; a.ExitCode == nil || *a.ExitCode != 3 || a.Handle != `{"v":1}` {
		t.Errorf("attempt = %+v", a)
	}
	if !c.NewAttempts[0].CreatedAt.Equal(t0) || c.NewAttempts[0].ExitCode != nil {
		t.Errorf("new attempt = %+v", c.NewAttempts[0])
	}
	if string(c.NewRuns[0].Spec) != "spec: 1" {
		t.Errorf("new run spec = %q", c.NewRuns[0].Spec)
	}

	// Reset empties the file; appends go on after it.
	if err := w.Reset(); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Append(4, &run.Changes{Attempts: []*run.Attempt{{ID: "a9", Phase: run.Succeeded}}}); err != nil {
		t.Fatal(err)
	}
	if recs, err = Read(path); err != nil || len(recs) != 1 || recs[0].Seq != 4 {
		t.Fatalf("after reset: %+v, %v", recs, err)
	}
}

func TestReadMissingAndTorn(t *testing.T) {
	dir := t.TempDir()
	if recs, err := Read(filepath.Join(dir, "none")); err != nil || recs != nil {
		t.Fatalf("missing journal: %v, %v", recs, err)
	}
	path := filepath.Join(dir, "journal")
	w, err := Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Append(1, sample()); err != nil {
		t.Fatal(err)
	}
	w.Close()
	whole, _ := os.ReadFile(path)
	// A crash in the middle of a write leaves a line without its newline.
	torn := append(append([]byte{}, whole...), whole[:len(whole)/2]...)
	torn[len(whole)+7] = '9' // seq 2-ish prefix, whatever: it is cut short
	if err := os.WriteFile(path, torn, 0o644); err != nil {
		t.Fatal(err)
	}
	recs, err := Read(path)
	if err != nil || len(recs) != 1 {
		t.Fatalf("torn last record: %d records, %v; want the first only", len(recs), err)
	}
}

func TestReadCorrupt(t *testing.T) {
	dir := t.TempDir()
	for name, body := range map[string]string{
		"garbage":      "{\"seq\":1,\"changes\":{}}\nnot json\n",
		"unknown":      "{\"seq\":1,\"changes\":{\"mystery\":[]}}\n",
		"no seq":       "{\"changes\":{}}\n",
		"out of order": "{\"seq\":2,\"changes\":{}}\n{\"seq\":2,\"changes\":{}}\n",
	} {
		path := filepath.Join(dir, strings.ReplaceAll(name, " ", "-"))
		if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := Read(path)
		if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "line ") {
			t.Errorf("%s: err = %v, want ErrCorrupt naming the file and line", name, err)
		}
	}
}

func BenchmarkAppendChanges(b *testing.B) {
	c := sample()
	c.NewRuns = nil
	var buf []byte
	for b.Loop() {
		buf, _ = appendChanges(buf[:0], c)
	}
}
