package report

import (
	"bytes"
	"encoding/json"
	"math"
	"math/rand"
	"reflect"
	"testing"
	"time"

	"github.com/weir-dev/weir/internal/run"
)

// checkAppendJSON compares AppendJSON with json.Marshal, and
// AppendJSONIndent with json.Encoder's indented output, errors included.
func checkAppendJSON(t *testing.T, name string, r *Run) {
	t.Helper()
	want, wantErr := json.Marshal(r)
	got, err := r.AppendJSON([]byte("prefix"))
	switch {
	case (err != nil) != (wantErr != nil):
		t.Fatalf("%s: AppendJSON error %v, json.Marshal's %v", name, err, wantErr)
	case err != nil:
		if err.Error() != wantErr.Error() {
			t.Fatalf("%s: AppendJSON error %q, json.Marshal's %q", name, err, wantErr)
		}
	case string(got) != "prefix"+string(want):
		t.Fatalf("%s: AppendJSON wrote\n%s\njson.Marshal wrote\n%s", name, got[len("prefix"):], want)
	}
	// The two spaces `weir run -o json` indents by, and a tab, an indent
	// of another width. No indent is AppendJSON, checked above.
	for _, indent := range []string{"  ", "\t"} {
		want, wantErr := encoderJSON(r, indent)
		got, err := r.AppendJSONIndent([]byte("prefix"), indent)
		switch {
		case (err != nil) != (wantErr != nil):
			t.Fatalf("%s: AppendJSONIndent(%q) error %v, json.Encoder's %v", name, indent, err, wantErr)
		case err != nil:
			if err.Error() != wantErr.Error() {
				t.Fatalf("%s: AppendJSONIndent(%q) error %q, json.Encoder's %q", name, indent, err, wantErr)
			}
		case string(got) != "prefix"+string(want):
			t.Fatalf("%s: AppendJSONIndent(%q) wrote\n%s\njson.Encoder wrote\n%s", name, indent, got[len("prefix"):], want)
		}
	}
}

// encoderJSON is what a json.Encoder with SetIndent("", indent) writes for
// r, without the final newline.
func encoderJSON(r *Run, indent string) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", indent)
	if err := enc.Encode(r); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// TestAppendJSONMatchesMarshal: the summary's own encoder writes exactly
// json.Marshal's bytes, and json.Encoder's when indenting, for summaries of
// real-looking and random runs.
func TestAppendJSONMatchesMarshal(t *testing.T) {
	checkAppendJSON(t, "loop", Summarize(loopSnapshot(300)))
	checkAppendJSON(t, "tricky", Summarize(trickySnapshot()))
	checkAppendJSON(t, "empty snapshot", Summarize(&run.Snapshot{Run: &run.Run{}}))
	rng := rand.New(rand.NewSource(5))
	for i := 0; i < 2000; i++ {
		checkAppendJSON(t, "random snapshot", Summarize(randomSnapshot(rng)))
		checkAppendJSON(t, "random summary", randomRun(rng))
	}
}

// TestAppendJSONOmitsAsMarshal covers the nil and empty values Summarize
// never produces but a Run decoded from JSON or built by hand holds: nil
// tasks, maps and artifact lists, empty attempt histories, zero exit codes.
func TestAppendJSONOmitsAsMarshal(t *testing.T) {
	zero, one := 0, 1
	fin := t0.Add(time.Hour)
	for name, r := range map[string]*Run{
		"zero":          {},
		"no tasks":      {Tasks: []Task{}, Parameters: map[string]any{}},
		"finished":      {FinishedAt: &fin, Parameters: map[string]any{"a": nil}},
		"zero task":     {Tasks: []Task{{}}},
		"empty history": {Tasks: []Task{{Attempt: []Attempt{}, ExitCode: &zero, Log: "l"}}},
		"nil lists": {Tasks: []Task{{
			Inputs:  IO{Parameters: map[string]any{}, Artifacts: map[string][]Artifact{"none": nil, "empty": {}, "zero": {{}}}},
			Outputs: IO{Artifacts: map[string][]Artifact{}},
			Attempt: []Attempt{{}, {ExitCode: &one, Error: "e"}, {ExitCode: &zero}},
		}}},
	} {
		checkAppendJSON(t, name, r)
	}
}

// TestAppendJSONWritesEveryField fills every field of a summary, at every
// level, with a value that is not empty: a field added to one of the
// structs and forgotten by the encoder fails here.
func TestAppendJSONWritesEveryField(t *testing.T) {
	var r Run
	fill(reflect.ValueOf(&r).Elem())
	if len(r.Tasks) == 0 || len(r.Tasks[0].Attempt) == 0 || r.Tasks[0].Outputs.Artifacts["k"][0].Metadata == nil {
		t.Fatalf("fill left things empty: %+v", r)
	}
	checkAppendJSON(t, "full", &r)
}

// fill sets v, and everything it holds, to a value that is not empty.
func fill(v reflect.Value) {
	switch v.Kind() {
	case reflect.String:
		v.SetString("s")
	case reflect.Int, reflect.Int64:
		v.SetInt(7)
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		fill(v.Elem())
	case reflect.Slice:
		v.Set(reflect.MakeSlice(v.Type(), 1, 1))
		fill(v.Index(0))
	case reflect.Map:
		v.Set(reflect.MakeMap(v.Type()))
		e := reflect.New(v.Type().Elem()).Elem()
		if e.Kind() == reflect.Interface {
			e.Set(reflect.ValueOf(1.5))
		} else {
			fill(e)
		}
		v.SetMapIndex(reflect.ValueOf("k"), e)
	case reflect.Struct:
		if v.Type() == reflect.TypeFor[time.Time]() {
			v.Set(reflect.ValueOf(t0))
			return
		}
		for i := 0; i < v.NumField(); i++ {
			fill(v.Field(i))
		}
	default:
		panic("fill: no value for " + v.Type().String())
	}
}

// TestAppendJSONErrors: what json.Marshal refuses, AppendJSON refuses with
// the same error.
func TestAppendJSONErrors(t *testing.T) {
	far := time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)
	for name, r := range map[string]*Run{
		"NaN parameter":     {Parameters: map[string]any{"x": math.NaN()}},
		"Inf in metadata":   {Tasks: []Task{{Outputs: IO{Artifacts: map[string][]Artifact{"a": {{Metadata: map[string]any{"m": []any{math.Inf(1)}}}}}}}}},
		"bad number":        {Tasks: []Task{{Inputs: IO{Parameters: map[string]any{"n": json.Number("1.")}}}}},
		"created in 10000":  {CreatedAt: far},
		"finished in 10000": {FinishedAt: &far},
		"zone of 24 hours":  {CreatedAt: time.Date(2026, 1, 1, 0, 0, 0, 0, time.FixedZone("x", 24*3600))},
	} {
		if _, err := json.Marshal(r); err == nil {
			t.Fatalf("%s: json.Marshal accepts it", name)
		}
		checkAppendJSON(t, name, r)
	}
}

// randomRun builds a summary directly, with the nil and empty variants
// Summarize does not produce.
func randomRun(rng *rand.Rand) *Run {
	intp := func() *int {
		if rng.Intn(2) == 0 {
			return nil
		}
		n := rng.Intn(512) - 256
		return &n
	}
	text := func() string {
		if rng.Intn(3) == 0 {
			return ""
		}
		return randomText(rng)
	}
	io := func() IO {
		side := IO{Parameters: randomValues(rng, 0)}
		if rng.Intn(5) > 0 {
			side.Artifacts = map[string][]Artifact{}
			for i := rng.Intn(4); i > 0; i-- {
				var list []Artifact
				if rng.Intn(4) > 0 {
					list = []Artifact{}
				}
				for j := rng.Intn(3); j > 0; j-- {
					list = append(list, Artifact{ID: text(), URI: text(), Path: text(), Type: text(), Metadata: randomValues(rng, 0), Size: rng.Int63() - rng.Int63()})
				}
				side.Artifacts[randomText(rng)] = list
			}
		}
		return side
	}
	r := &Run{RunID: text(), Pipeline: text(), Name: text(), State: run.Phase(text()), Error: text(), CreatedAt: randomTime(rng),
		DurationMS: rng.Int63() - rng.Int63(), Parameters: randomValues(rng, 0), Root: text()}
	if rng.Intn(2) == 0 {
		f := randomTime(rng)
		r.FinishedAt = &f
	}
	if rng.Intn(6) > 0 {
		r.Tasks = []Task{}
	}
	for i := rng.Intn(6); i > 0; i-- {
		task := Task{Name: text(), Kind: run.Kind(text()), State: run.Phase(text()), Attempts: rng.Intn(5), ExitCode: intp(), Error: text(),
			DurationMS: rng.Int63n(1e9), Inputs: io(), Outputs: io(), Log: text(), CachedFrom: text()}
		if rng.Intn(4) == 0 {
			task.Attempt = []Attempt{}
		}
		for j := rng.Intn(4); j > 0; j-- {
			task.Attempt = append(task.Attempt, Attempt{Number: rng.Intn(5), State: run.Phase(text()), ExitCode: intp(), Error: text(),
				DurationMS: rng.Int63n(1e9), Log: text()})
		}
		r.Tasks = append(r.Tasks, task)
	}
	return r
}

// BenchmarkMarshal2000 and BenchmarkAppendJSON2000 encode the summary of a
// run of 1000 loop iterations (about 2000 tasks) with encoding/json and
// with the summary's own encoder.
func BenchmarkMarshal2000(b *testing.B) {
	sum := Summarize(loopSnapshot(1000))
	for b.Loop() {
		if _, err := json.Marshal(sum); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAppendJSON2000(b *testing.B) {
	sum := Summarize(loopSnapshot(1000))
	var buf []byte
	for b.Loop() {
		var err error
		if buf, err = sum.AppendJSON(buf[:0]); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAppendJSONIndent2000 encodes the same summary indented by two
// spaces, as `weir run -o json` prints it.
func BenchmarkAppendJSONIndent2000(b *testing.B) {
	sum := Summarize(loopSnapshot(1000))
	var buf []byte
	for b.Loop() {
		var err error
		if buf, err = sum.AppendJSONIndent(buf[:0], "  "); err != nil {
			b.Fatal(err)
		}
	}
}
