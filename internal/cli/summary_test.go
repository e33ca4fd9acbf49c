package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/rand"
	"testing"
	"time"

	"github.com/weir-dev/weir/internal/report"
	"github.com/weir-dev/weir/internal/run"
)

// encoderJSON is what writeJSON must write: json.Encoder's indented
// output.
func encoderJSON(t testing.TB, v any) string {
	t.Helper()
	var want bytes.Buffer
	enc := json.NewEncoder(&want)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	return want.String()
}

// TestWriteJSONMatchesEncodingJSON: writeJSON's indentation is exactly
// encoding/json's, on awkward values, which it indents after json.Marshal
// encoded them, and on a run summary, which its encoder indents.
func TestWriteJSONMatchesEncodingJSON(t *testing.T) {
	code := 3
	values := []any{
		map[string]any{},
		[]any{},
		"plain",
		42,
		nil,
		map[string]any{"a": []any{}, "b": map[string]any{}, "c": []any{1, "x", nil, true, 1.5e-9, map[string]any{"d": []any{[]any{}}}}},
		map[string]any{"quotes \"{[,:]}\"": "back\\slash \\\" \n\t\u2028 ünïcode <&> {\"k\": [1,2]}", "": ""},
		[]any{[]any{[]any{}}, map[string]any{"x": map[string]any{"y": []any{map[string]any{}}}}},
		&runSummary{RunID: "r", Tasks: []taskSummary{{Name: "a/b", ExitCode: &code, Error: "failed: {\"x\": [1]}"}, {Name: "c"}}},
	}
	for _, v := range values {
		var want bytes.Buffer
		enc := json.NewEncoder(&want)
		enc.SetIndent("", "  ")
		if err := enc.Encode(v); err != nil {
			t.Fatal(err)
		}
		var got bytes.Buffer
		if err := writeJSON(&got, v); err != nil {
			t.Fatal(err)
		}
		if got.String() != want.String() {
			t.Errorf("writeJSON(%#v):\n got %q\nwant %q", v, got.String(), want.String())
		}
	}
}

// randomString is made of the bytes an indenter must not mistake for
// structure: brackets, commas, colons, quotes and backslashes, and of
// characters encoding/json escapes.
func randomString(rng *rand.Rand) string {
	alphabet := []rune(`ab{}[],:"\ <&>` + "\n\t\x01é☃\u2028")
	r := make([]rune, rng.Intn(6))
	for i := range r {
		r[i] = alphabet[rng.Intn(len(alphabet))]
	}
	return string(r)
}

// randomJSON builds a value as decoding JSON yields it, empty lists and
// objects included.
func randomJSON(rng *rand.Rand, depth int) any {
	switch k := rng.Intn(7); {
	case depth > 3 || k == 0:
		return randomString(rng)
	case k == 1:
		return rng.NormFloat64() * 1e6
	case k == 2:
		return rng.Intn(2) == 0
	case k == 3:
		return nil
	case k == 4:
		l := make([]any, rng.Intn(4))
		for i := range l {
			l[i] = randomJSON(rng, depth+1)
		}
		return l
	default:
		return randomMap(rng, depth)
	}
}

func randomMap(rng *rand.Rand, depth int) map[string]any {
	m := map[string]any{}
	for i := rng.Intn(4); i > 0; i-- {
		m[randomString(rng)] = randomJSON(rng, depth+1)
	}
	return m
}

func TestWriteJSONRandom(t *testing.T) {
	rng := rand.New(rand.NewSource(7))
	for i := 0; i < 2000; i++ {
		v := randomJSON(rng, 0)
		var got bytes.Buffer
		if err := writeJSON(&got, v); err != nil {
			t.Fatal(err)
		}
		if want := encoderJSON(t, v); got.String() != want {
			t.Fatalf("writeJSON(%#v):\n got %q\nwant %q", v, got.String(), want)
		}
	}
}

// loopRun is the snapshot of a run with a loop of n iterations (about 2n
// tasks): every body task takes parameters, most write an output parameter
// and an artifact with metadata that a final task reads; some are retried,
// some fail with an exit code, some are cached.
func loopRun(n int) *run.Snapshot {
	t0 := time.Date(2026, 11, 27, 8, 0, 0, 123456789, time.UTC)
	s := &run.Snapshot{Run: &run.Run{ID: "run-1", PipelineName: "loops", DisplayName: "loops <nightly> & more", Phase: run.Failed,
		Error: "task \"loop/7/work\" failed", Parameters: map[string]any{"n": int64(n), "ratio": 0.25, "tags": []any{"a", "\u2028"}},
		PipelineRoot: "gs://bucket/root", CreatedAt: t0, FinishedAt: t0.Add(time.Duration(n) * time.Second)}}
	add := func(id, path string, kind run.Kind, phase run.Phase) *run.TaskRun {
		tr := &run.TaskRun{ID: id, Path: path, Kind: kind, Phase: phase, Inputs: map[string]any{}, Outputs: map[string]any{},
			StartedAt: t0, FinishedAt: t0.Add(time.Duration(len(s.TaskRuns)) * time.Millisecond)}
		s.TaskRuns = append(s.TaskRuns, tr)
		return tr
	}
	try := func(tr *run.TaskRun, number, code int, msg string) {
		a := &run.Attempt{ID: fmt.Sprintf("%s-a%d", tr.ID, number), TaskRunID: tr.ID, Number: number, Phase: run.Succeeded,
			Error: msg, LogPath: fmt.Sprintf("/logs/%s/%d.log", tr.ID, number), StartedAt: t0, FinishedAt: tr.FinishedAt}
		if code >= 0 {
			a.ExitCode = &code
		}
		if msg != "" {
			a.Phase = run.Failed
		}
		s.Attempts = append(s.Attempts, a)
	}
	add("loop", "loop", run.KindLoop, run.Failed)
	for i := 0; i < n; i++ {
		add(fmt.Sprint("it", i), fmt.Sprintf("loop/%d", i), run.KindIteration, run.Succeeded).Inputs["item"] = int64(i)
	}
	collect := add("collect", "collect", run.KindContainer, run.Skipped)
	for i := 0; i < n; i++ {
		w := add(fmt.Sprint("w", i), fmt.Sprintf("loop/%d/work", i), run.KindContainer, run.Succeeded)
		w.Inputs["item"], w.Inputs["scale"] = int64(i), 1.5e-7
		switch i % 10 {
		case 7:
			w.Phase, w.Error = run.Failed, "exit status 1: <stderr> & more"
			try(w, 1, 1, "exit status 1")
			try(w, 2, 1, w.Error)
			continue
		case 3:
			w.Phase, w.CachedFrom = run.Cached, "old-attempt"
		case 5:
			try(w, 1, -1, "lost: node went away")
			try(w, 2, 0, "")
		default:
			try(w, 1, 0, "")
		}
		w.Outputs["rows"], w.Outputs["score"] = int64(i*1000), float64(i)/7
		id := fmt.Sprint("ar", i)
		s.Artifacts = append(s.Artifacts, &run.Artifact{ID: id, URI: fmt.Sprintf("gs://bucket/work/%d/out", i), SchemaTitle: "system.Dataset",
			Metadata: map[string]any{"rows": int64(i * 1000), "display": map[string]any{"name": fmt.Sprint("out <", i, ">")}}, Size: int64(i) * 4096})
		s.Events = append(s.Events,
			&run.ArtifactEvent{ArtifactID: id, TaskRunID: w.ID, Kind: run.EventOutput, Name: "out"},
			&run.ArtifactEvent{ArtifactID: id, TaskRunID: collect.ID, Kind: run.EventInput, Name: "parts", Index: i})
	}
	return s
}

// TestWriteJSONRunSummary: a run summary, written by its own encoder, is
// exactly what json.Encoder writes for it; so are the cases writeJSON
// leaves to encoding/json.
func TestWriteJSONRunSummary(t *testing.T) {
	unfinished := loopRun(3)
	unfinished.Run.FinishedAt = time.Time{}
	for name, v := range map[string]any{
		"loop":         summarize(loopRun(30)),
		"unfinished":   summarize(unfinished),
		"empty":        summarize(&run.Snapshot{Run: &run.Run{}}),
		"zero":         &report.Run{},
		"nil":          (*report.Run)(nil),
		"value":        *summarize(loopRun(2)),
		"list of runs": []*report.Run{summarize(loopRun(2))},
	} {
		var got bytes.Buffer
		if err := writeJSON(&got, v); err != nil {
			t.Fatal(err)
		}
		if want := encoderJSON(t, v); got.String() != want {
			t.Errorf("%s: writeJSON wrote\n%s\njson.Encoder wrote\n%s", name, got.String(), want)
		}
	}
	// What encoding/json refuses is refused, with its error.
	bad := summarize(loopRun(2))
	bad.Parameters = map[string]any{"x": math.NaN()}
	_, want := json.Marshal(bad)
	if err := writeJSON(io.Discard, bad); err == nil || err.Error() != want.Error() {
		t.Errorf("NaN parameter: error %v, want %v", err, want)
	}
}

// TestWriteJSONRandomSummaries: summaries of loop runs whose parameters,
// task inputs and outputs and artifact metadata are random values, nested
// and empty, are written as json.Encoder writes them.
func TestWriteJSONRandomSummaries(t *testing.T) {
	rng := rand.New(rand.NewSource(8))
	for i := 0; i < 300; i++ {
		s := loopRun(1 + rng.Intn(12))
		s.Run.Parameters = randomMap(rng, 0)
		for _, tr := range s.TaskRuns {
			tr.Inputs, tr.Outputs = randomMap(rng, 1), randomMap(rng, 1)
		}
		for _, a := range s.Artifacts {
			a.Metadata = randomMap(rng, 0)
		}
		sum := summarize(s)
		var got bytes.Buffer
		if err := writeJSON(&got, sum); err != nil {
			t.Fatal(err)
		}
		if want := encoderJSON(t, sum); got.String() != want {
			t.Fatalf("writeJSON wrote\n%s\njson.Encoder wrote\n%s", got.String(), want)
		}
	}
}

// BenchmarkWriteJSON2000 writes the summary of a run of 1000 loop
// iterations (about 2000 tasks), as `weir run -o json` does.
func BenchmarkWriteJSON2000(b *testing.B) {
	sum := summarize(loopRun(1000))
	var buf bytes.Buffer
	for b.Loop() {
		buf.Reset()
		if err := writeJSON(&buf, sum); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSummarizeWriteJSON2000 is the whole of `weir run -o json`'s
// output for such a run: describing it, then writing it.
func BenchmarkSummarizeWriteJSON2000(b *testing.B) {
	snap := loopRun(1000)
	var buf bytes.Buffer
	for b.Loop() {
		buf.Reset()
		if err := writeJSON(&buf, summarize(snap)); err != nil {
			b.Fatal(err)
		}
	}
}
