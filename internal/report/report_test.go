package report

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/weir-dev/weir/internal/launch"
	"github.com/weir-dev/weir/internal/run"
)

var t0 = time.Date(2026, 11, 27, 8, 0, 0, 123456789, time.UTC)

// loopSnapshot is a run of a pipeline with a preparing task, a loop of n
// iterations whose body runs one task each, and a final task: about 2n task
// runs in the order the engine creates them (a loop's iterations before
// their bodies). Every body task takes a parameter, writes an output
// parameter and an artifact with metadata; some were retried, some failed,
// some were cached.
func loopSnapshot(n int) *run.Snapshot {
	s := &run.Snapshot{Run: &run.Run{ID: "run-1", PipelineName: "loops", DisplayName: "loops <nightly>", Phase: run.Failed,
		Error: `task "loop/7/work" failed`, Parameters: map[string]any{"n": int64(n), "ratio": 0.25, "tags": []any{"a", "b"}},
		PipelineRoot: "file:///tmp/weir/root", CreatedAt: t0, StartedAt: t0, FinishedAt: t0.Add(time.Duration(n) * time.Second)}}
	code0, code1 := 0, 1
	seq := 0
	id := func(prefix string) string {
		seq++
		return fmt.Sprintf("%s-%06d", prefix, seq)
	}
	task := func(path, name, parent string, kind run.Kind, start time.Time) *run.TaskRun {
		tr := &run.TaskRun{ID: id("t"), RunID: "run-1", Path: path, Name: name, ParentID: parent, Kind: kind, Phase: run.Succeeded,
			Inputs: map[string]any{}, Outputs: map[string]any{}, CreatedAt: start, StartedAt: start, FinishedAt: start.Add(1500 * time.Millisecond)}
		s.TaskRuns = append(s.TaskRuns, tr)
		return tr
	}
	attempt := func(tr *run.TaskRun, number int, phase run.Phase, code *int, msg string) {
		s.Attempts = append(s.Attempts, &run.Attempt{ID: id("a"), TaskRunID: tr.ID, Number: number, Phase: phase, ExitCode: code,
			Error: msg, LogPath: "/tmp/weir/logs/" + tr.ID + fmt.Sprintf(".%d.log", number), CreatedAt: tr.StartedAt,
			StartedAt: tr.StartedAt, FinishedAt: tr.FinishedAt})
	}
	prep := task("prepare", "prepare", "", run.KindContainer, t0)
	attempt(prep, 1, run.Succeeded, &code0, "")
	loop := task("loop", "loop", "", run.KindLoop, t0.Add(time.Second))
	var its []*run.TaskRun
	for i := 0; i < n; i++ {
		it := task(fmt.Sprintf("loop/%d", i), fmt.Sprint(i), loop.ID, run.KindIteration, loop.StartedAt)
		it.Inputs = map[string]any{"item": fmt.Sprintf("shard-%d", i)}
		its = append(its, it)
	}
	for i, it := range its {
		w := task(it.Path+"/work", "work", it.ID, run.KindContainer, it.StartedAt.Add(time.Duration(i)*time.Millisecond))
		w.Inputs = map[string]any{"item": it.Inputs["item"], "scale": 1.5, "limit": int64(i)}
		switch {
		case i%10 == 7:
			w.Phase, w.Error = run.Failed, "exit status 1: <stderr> & more"
			attempt(w, 1, run.Failed, &code1, "exit status 1")
			attempt(w, 2, run.Failed, &code1, "exit status 1: <stderr> & more")
			continue
		case i%10 == 3:
			w.CachedFrom = "a-cached"
		case i%10 == 5:
			attempt(w, 1, run.Failed, nil, "lost: node went away")
			attempt(w, 2, run.Succeeded, &code0, "")
		default:
			attempt(w, 1, run.Succeeded, &code0, "")
		}
		w.Outputs = map[string]any{"rows": int64(i * 1000), "score": float64(i) / 7, "label": fmt.Sprintf("shard \u2028%d", i)}
		art := &run.Artifact{ID: id("ar"), RunID: "run-1", URI: fmt.Sprintf("gs://bucket/run-1/work/%d/out", i), SchemaTitle: "system.Dataset",
			Metadata: map[string]any{"rows": int64(i * 1000), "columns": []any{"a", "b"}, "display": map[string]any{"name": fmt.Sprint("out ", i)}},
			Size:     int64(i) * 4096, CreatedAt: w.FinishedAt}
		s.Artifacts = append(s.Artifacts, art)
		s.Events = append(s.Events, &run.ArtifactEvent{ArtifactID: art.ID, TaskRunID: w.ID, Kind: run.EventOutput, Name: "out", CreatedAt: w.FinishedAt})
	}
	last := task("report", "report", "", run.KindContainer, t0.Add(time.Duration(n)*time.Second))
	last.Phase = run.Skipped
	return s
}

// BenchmarkSummarize2000 describes a run of 1000 loop iterations (about
// 2000 task runs).
func BenchmarkSummarize2000(b *testing.B) {
	s := loopSnapshot(1000)
	for b.Loop() {
		Summarize(s)
	}
}

// summarizeReference is Summarize as it was before it was made faster,
// sorting with LessPath itself: the reference its output must equal.
func summarizeReference(s *run.Snapshot) *Run {
	r := s.Run
	sum := &Run{
		RunID: r.ID, Pipeline: r.PipelineName, Name: r.DisplayName, State: r.Phase, Error: r.Error,
		CreatedAt: r.CreatedAt, DurationMS: Millis(r.CreatedAt, r.FinishedAt),
		Parameters: r.Parameters, Root: r.PipelineRoot, Tasks: []Task{},
	}
	if !r.FinishedAt.IsZero() {
		t := r.FinishedAt
		sum.FinishedAt = &t
	}
	arts := map[string]*run.Artifact{}
	for _, a := range s.Artifacts {
		arts[a.ID] = a
	}
	type ioKey struct {
		task string
		kind run.EventKind
	}
	io := map[ioKey]map[string][]Artifact{}
	for _, ev := range s.Events {
		a := arts[ev.ArtifactID]
		if a == nil {
			continue
		}
		k := ioKey{ev.TaskRunID, ev.Kind}
		if io[k] == nil {
			io[k] = map[string][]Artifact{}
		}
		io[k][ev.Name] = append(io[k][ev.Name], Artifact{ID: a.ID, URI: a.URI, Path: launch.LocalPath(a.URI),
			Type: a.SchemaTitle, Metadata: orEmpty(a.Metadata), Size: a.Size})
	}
	attempts := map[string][]*run.Attempt{}
	for _, a := range s.Attempts {
		attempts[a.TaskRunID] = append(attempts[a.TaskRunID], a)
	}
	tasks := append([]*run.TaskRun{}, s.TaskRuns...)
	sort.SliceStable(tasks, func(i, j int) bool { return LessPath(tasks[i].Path, tasks[j].Path) })
	for _, t := range tasks {
		ts := Task{
			Name: t.Path, Kind: t.Kind, State: t.Phase, Error: t.Error, DurationMS: Millis(t.StartedAt, t.FinishedAt), CachedFrom: t.CachedFrom,
			Inputs:  IO{Parameters: orEmpty(t.Inputs), Artifacts: orEmptyArts(io[ioKey{t.ID, run.EventInput}])},
			Outputs: IO{Parameters: orEmpty(t.Outputs), Artifacts: orEmptyArts(io[ioKey{t.ID, run.EventOutput}])},
		}
		for _, a := range attempts[t.ID] {
			ts.Attempt = append(ts.Attempt, Attempt{Number: a.Number, State: a.Phase, ExitCode: a.ExitCode, Error: a.Error,
				DurationMS: Millis(a.StartedAt, a.FinishedAt), Log: a.LogPath})
		}
		ts.Attempts = len(ts.Attempt)
		if n := len(ts.Attempt); n > 0 {
			ts.ExitCode, ts.Log = ts.Attempt[n-1].ExitCode, ts.Attempt[n-1].Log
		}
		sum.Tasks = append(sum.Tasks, ts)
	}
	return sum
}

// trickySnapshot is a small run with one of everything: nested loops, a
// retried task whose first attempt has no exit code, a cached task, an
// importer, an artifact without metadata consumed by two tasks, an event
// naming an unknown artifact, artifacts in gs://, s3:// and file:// and
// text that needs escaping. The run has not finished.
func trickySnapshot() *run.Snapshot {
	code0, code2 := 0, 2
	at := func(d int) time.Time { return t0.Add(time.Duration(d) * time.Millisecond) }
	s := &run.Snapshot{
		Run: &run.Run{ID: "r<1>", PipelineName: "p&q", DisplayName: "nightly \u2028 \"quoted\"", Phase: run.Running,
			Parameters:   map[string]any{"html": "<b>&</b>", "list": []any{int64(1), 2.5, nil, "\u2029"}, "big": 1e21, "small": 1e-7, "neg0": math.Copysign(0, -1)},
			PipelineRoot: "s3://bucket/root", CreatedAt: t0},
		TaskRuns: []*run.TaskRun{
			{ID: "t-report", Path: "report", Kind: run.KindContainer, Phase: run.Pending},
			{ID: "t-outer", Path: "outer", Kind: run.KindLoop, Phase: run.Running, StartedAt: at(0)},
			{ID: "t-o10", Path: "outer/10", Kind: run.KindIteration, Phase: run.Succeeded, StartedAt: at(1), FinishedAt: at(900),
				Inputs: map[string]any{"item": map[string]any{"é": "ü", "a": []any{}}}},
			{ID: "t-o9", Path: "outer/9", Kind: run.KindIteration, Phase: run.Running, StartedAt: at(1)},
			{ID: "t-o9-inner", Path: "outer/9/inner", Kind: run.KindLoop, Phase: run.Running, StartedAt: at(2)},
			{ID: "t-o9-inner-0-train", Path: "outer/9/inner/0/train", Kind: run.KindContainer, Phase: run.Failed,
				Error: "exit status 2: <oom> & \"killed\"", StartedAt: at(3), FinishedAt: at(1503),
				Inputs: map[string]any{"lr": 0.001, "epochs": int64(3)}, Outputs: map[string]any{}},
			{ID: "t-o10-train", Path: "outer/10/train", Kind: run.KindContainer, Phase: run.Cached, CachedFrom: "att-old",
				Outputs: map[string]any{"acc": 0.97, "notes": "line1\nline2\t\x01"}},
			{ID: "t-import", Path: "import", Kind: run.KindImporter, Phase: run.Succeeded, StartedAt: at(0), FinishedAt: at(0)},
		},
		Attempts: []*run.Attempt{
			{ID: "a1", TaskRunID: "t-o9-inner-0-train", Number: 1, Phase: run.Failed, Error: "lost: <node>", LogPath: "/logs/a1.log", StartedAt: at(3), FinishedAt: at(500)},
			{ID: "a2", TaskRunID: "t-o9-inner-0-train", Number: 2, Phase: run.Failed, ExitCode: &code2, Error: "exit status 2", LogPath: "/logs/a2.log", StartedAt: at(600), FinishedAt: at(1503)},
			{ID: "a3", TaskRunID: "t-import", Number: 1, Phase: run.Succeeded, ExitCode: &code0, LogPath: "/logs/a3.log"},
			{ID: "a-orphan", TaskRunID: "gone", Number: 1, Phase: run.Failed},
		},
		Artifacts: []*run.Artifact{
			{ID: "ar-data", URI: "gs://b/data.csv", SchemaTitle: "system.Dataset", Size: 1 << 40},
			{ID: "ar-model", URI: "file:///tmp/model", SchemaTitle: "system.Model", Metadata: map[string]any{"framework": "torch<2>", "layers": []any{map[string]any{"n": int64(64)}}}},
			{ID: "ar-s3", URI: "s3://b/x", Metadata: map[string]any{}},
		},
		Events: []*run.ArtifactEvent{
			{ArtifactID: "ar-data", TaskRunID: "t-import", Kind: run.EventOutput, Name: "artifact"},
			{ArtifactID: "ar-data", TaskRunID: "t-o10-train", Kind: run.EventInput, Name: "data"},
			{ArtifactID: "ar-data", TaskRunID: "t-o9-inner-0-train", Kind: run.EventInput, Name: "data"},
			{ArtifactID: "ar-s3", TaskRunID: "t-o9-inner-0-train", Kind: run.EventInput, Name: "data"},
			{ArtifactID: "ar-model", TaskRunID: "t-o10-train", Kind: run.EventOutput, Name: "model"},
			{ArtifactID: "ar-s3", TaskRunID: "t-o10-train", Kind: run.EventOutput, Name: "extra"},
			{ArtifactID: "unknown", TaskRunID: "t-o10-train", Kind: run.EventOutput, Name: "lost"},
		},
	}
	return s
}

// pathSegments are task path segments LessPath treats in every way it
// can: names, numbers, numbers that are equal but spelt differently,
// numbers too big for an int, and the empty segment.
var pathSegments = []string{"a", "b", "loop", "x1", "0", "1", "2", "9", "10", "01", "+1", "-1", "1a", "", "99999999999999999999"}

func randomPath(rng *rand.Rand) string {
	segs := make([]string, 1+rng.Intn(4))
	for i := range segs {
		segs[i] = pathSegments[rng.Intn(len(pathSegments))]
	}
	return strings.Join(segs, "/")
}

// randomValue builds a parameter value: text that needs escaping, numbers
// of every size, nested lists and maps.
func randomValue(rng *rand.Rand, depth int) any {
	switch k := rng.Intn(9); {
	case depth > 3 || k == 0:
		return randomText(rng)
	case k == 1:
		return rng.NormFloat64() * math.Pow(10, float64(rng.Intn(60)-30))
	case k == 2:
		return rng.Int63() - rng.Int63()
	case k == 3:
		return rng.Intn(2) == 0
	case k == 4:
		return nil
	case k == 5:
		return json.Number(fmt.Sprint(rng.Intn(1000)))
	case k == 6:
		l := make([]any, rng.Intn(4))
		for i := range l {
			l[i] = randomValue(rng, depth+1)
		}
		return l
	default:
		return randomValues(rng, depth+1)
	}
}

func randomValues(rng *rand.Rand, depth int) map[string]any {
	if rng.Intn(6) == 0 {
		return nil
	}
	m := map[string]any{}
	for i := rng.Intn(5); i > 0; i-- {
		m[randomText(rng)] = randomValue(rng, depth)
	}
	return m
}

func randomText(rng *rand.Rand) string {
	pieces := []string{"a", "B", " ", "<", ">", "&", `"`, `\`, "\n", "\x00", "é", "\u2028", "\xff", "/", "日本"}
	var sb strings.Builder
	for i := rng.Intn(6); i > 0; i-- {
		sb.WriteString(pieces[rng.Intn(len(pieces))])
	}
	return sb.String()
}

func randomTime(rng *rand.Rand) time.Time {
	if rng.Intn(4) == 0 {
		return time.Time{}
	}
	zones := []*time.Location{time.UTC, time.FixedZone("east", 5*3600+1800), time.FixedZone("west", -8*3600)}
	return t0.Add(time.Duration(rng.Int63n(int64(48 * time.Hour)))).In(zones[rng.Intn(len(zones))])
}

// randomSnapshot builds a run of random tasks, attempts, artifacts and
// events that refer to each other, and sometimes to nothing.
func randomSnapshot(rng *rand.Rand) *run.Snapshot {
	phases := append([]run.Phase{}, run.Phases...)
	kinds := []run.Kind{run.KindContainer, run.KindImporter, run.KindDAG, run.KindLoop, run.KindIteration}
	s := &run.Snapshot{Run: &run.Run{ID: randomText(rng), PipelineName: randomText(rng), DisplayName: randomText(rng),
		Phase: phases[rng.Intn(len(phases))], Error: randomText(rng), Parameters: randomValues(rng, 0),
		PipelineRoot: randomText(rng), CreatedAt: randomTime(rng), FinishedAt: randomTime(rng)}}
	n := rng.Intn(30)
	taskID := func() string { return fmt.Sprint("t", rng.Intn(n+2)) }
	for i := 0; i < n; i++ {
		s.TaskRuns = append(s.TaskRuns, &run.TaskRun{ID: fmt.Sprint("t", i), Path: randomPath(rng), Kind: kinds[rng.Intn(len(kinds))],
			Phase: phases[rng.Intn(len(phases))], Error: randomText(rng), Inputs: randomValues(rng, 0), Outputs: randomValues(rng, 0),
			CachedFrom: randomText(rng), StartedAt: randomTime(rng), FinishedAt: randomTime(rng)})
	}
	for i := rng.Intn(2 * (n + 1)); i > 0; i-- {
		a := &run.Attempt{ID: fmt.Sprint("a", i), TaskRunID: taskID(), Number: rng.Intn(4), Phase: phases[rng.Intn(len(phases))],
			Error: randomText(rng), LogPath: randomText(rng), StartedAt: randomTime(rng), FinishedAt: randomTime(rng)}
		if rng.Intn(2) == 0 {
			code := rng.Intn(300) - 10
			a.ExitCode = &code
		}
		s.Attempts = append(s.Attempts, a)
	}
	schemes := []string{"gs://", "s3://", "minio://", "file://", "", "http://"}
	for i := rng.Intn(n + 1); i > 0; i-- {
		s.Artifacts = append(s.Artifacts, &run.Artifact{ID: fmt.Sprint("ar", rng.Intn(n+1)),
			URI:         schemes[rng.Intn(len(schemes))] + randomText(rng),
			SchemaTitle: randomText(rng), Metadata: randomValues(rng, 0), Size: rng.Int63()})
	}
	evKinds := []run.EventKind{run.EventInput, run.EventOutput, "other"}
	for i := rng.Intn(3 * (n + 1)); i > 0; i-- {
		s.Events = append(s.Events, &run.ArtifactEvent{ArtifactID: fmt.Sprint("ar", rng.Intn(n+2)), TaskRunID: taskID(),
			Kind: evKinds[rng.Intn(len(evKinds))], Name: []string{"in", "out", "data", "<x>"}[rng.Intn(4)]})
	}
	return s
}

// TestSummarizeMatchesReference: the faster Summarize describes every run
// exactly as it did before, task order included.
func TestSummarizeMatchesReference(t *testing.T) {
	check := func(name string, s *run.Snapshot) {
		t.Helper()
		if got, want := Summarize(s), summarizeReference(s); !reflect.DeepEqual(got, want) {
			// JSON shows the difference without raw control characters.
			g, _ := json.Marshal(got)
			w, _ := json.Marshal(want)
			t.Fatalf("%s: Summarize differs from the reference:\n got %s\nwant %s", name, g, w)
		}
	}
	check("loop", loopSnapshot(300))
	check("tricky", trickySnapshot())
	check("empty", &run.Snapshot{Run: &run.Run{}})
	rng := rand.New(rand.NewSource(3))
	for i := 0; i < 2000; i++ {
		s := randomSnapshot(rng)
		check(fmt.Sprint("random ", i), s)
	}
	// The same tasks in another order: a stable sort keeps equal paths in
	// their order, and paths LessPath orders inconsistently must come out
	// as they did.
	s := loopSnapshot(200)
	rng.Shuffle(len(s.TaskRuns), func(i, j int) { s.TaskRuns[i], s.TaskRuns[j] = s.TaskRuns[j], s.TaskRuns[i] })
	check("shuffled loop", s)
}

// TestSortByPathIsLessPath: sorting with keys split once gives exactly the
// order sort.SliceStable gives with LessPath, on paths chosen to make
// LessPath inconsistent (2 < 10 as numbers, "10" < "1a" and "1a" < "2" as
// text).
func TestSortByPathIsLessPath(t *testing.T) {
	rng := rand.New(rand.NewSource(4))
	for i := 0; i < 3000; i++ {
		trs := make([]*run.TaskRun, rng.Intn(80))
		for j := range trs {
			trs[j] = &run.TaskRun{ID: fmt.Sprint(j), Path: randomPath(rng)}
		}
		want := append([]*run.TaskRun{}, trs...)
		sort.SliceStable(want, func(i, j int) bool { return LessPath(want[i].Path, want[j].Path) })
		got := sortByPath(trs)
		for j := range got {
			if got[j] != want[j] {
				t.Fatalf("sortByPath differs at %d:\n got %v\nwant %v", j, ids(got), ids(want))
			}
		}
	}
}

func ids(trs []*run.TaskRun) []string {
	out := make([]string, len(trs))
	for i, t := range trs {
		out[i] = t.ID + ":" + t.Path
	}
	return out
}
