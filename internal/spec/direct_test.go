package spec

import (
	"math"
	"math/rand"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func readTestdata(name string) (string, error) {
	b, err := os.ReadFile(filepath.Join("testdata", name))
	return string(b), err
}

// decodeBoth decodes the pipeline document in data with the direct decoder
// and through encoding/json. It reports ok=false when the document does not
// get as far as that (it is not YAML, or not a mapping).
func decodeBoth(t testing.TB, data []byte) (direct *Pipeline, directOK bool, viaJSON *Pipeline, jsonErr error, ok bool) {
	t.Helper()
	docs, err := splitDocuments("t.yaml", data)
	if err != nil || len(docs) == 0 {
		return nil, false, nil, nil, false
	}
	root, isMap := docs[0].(map[string]any)
	if !isMap {
		return nil, false, nil, nil, false
	}
	if inner, isMap := root["pipeline_spec"].(map[string]any); isMap && root["root"] == nil {
		root = inner
	}
	direct = &Pipeline{}
	directOK = decodeDirect(root, direct)
	viaJSON = &Pipeline{}
	jsonErr = decodeJSON("t.yaml", root, viaJSON)
	return direct, directOK, viaJSON, jsonErr, true
}

// checkSameRoot is checkSame for plain values already decoded from YAML.
func checkSameRoot(t testing.TB, root map[string]any) (directOK bool) {
	t.Helper()
	direct := &Pipeline{}
	if !decodeDirect(root, direct) {
		return false
	}
	viaJSON := &Pipeline{}
	if err := decodeJSON("t.yaml", root, viaJSON); err != nil {
		t.Fatalf("direct decoder accepted a document the JSON round trip rejects: %v", err)
	}
	if !reflect.DeepEqual(direct, viaJSON) {
		t.Fatalf("direct decoder and JSON round trip differ:\n direct %#v\n   json %#v", direct, viaJSON)
	}
	return true
}

// checkSame fails unless the direct decoder either gave up or produced what
// the JSON round trip produces.
func checkSame(t testing.TB, data []byte) (directOK bool) {
	t.Helper()
	direct, directOK, viaJSON, jsonErr, ok := decodeBoth(t, data)
	if !ok || !directOK {
		return false
	}
	if jsonErr != nil {
		t.Fatalf("direct decoder accepted a document the JSON round trip rejects: %v", jsonErr)
	}
	if !reflect.DeepEqual(direct, viaJSON) {
		t.Fatalf("direct decoder and JSON round trip differ:\n direct %#v\n   json %#v", direct, viaJSON)
	}
	return true
}

// TestDirectMatchesJSON checks the direct decoder against the JSON round
// trip on every pipeline in testdata, valid or not, and on the large loop.
// The valid ones must not need the round trip at all.
func TestDirectMatchesJSON(t *testing.T) {
	valid, _ := filepath.Glob("testdata/*.yaml")
	invalid, _ := filepath.Glob("testdata/invalid/*.yaml")
	if len(valid) == 0 || len(invalid) == 0 {
		t.Fatal("no testdata")
	}
	for _, f := range append(valid, invalid...) {
		t.Run(f, func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			used := checkSame(t, data)
			if !used && !strings.Contains(f, "invalid") {
				t.Error("direct decoder gave up on a valid pipeline")
			}
		})
	}
	t.Run("loop1000", func(t *testing.T) {
		if !checkSame(t, loopSpec(1000)) {
			t.Error("direct decoder gave up on the loop pipeline")
		}
	})
}

// TestDirectEdgeCases covers values where encoding/json's behaviour is easy
// to get wrong: nulls, empty containers, numbers of every kind, keys that
// match a field only case-insensitively. For each, the direct decoder must
// agree with the round trip or leave the document to it (want says which),
// and Decode's result must be the round trip's.
func TestDirectEdgeCases(t *testing.T) {
	tests := []struct {
		name   string
		doc    string
		direct bool // whether the direct decoder should handle it
	}{
		{"null component", "components: {comp-a: null}", true},
		{"null fields", "root: {inputDefinitions: null, dag: {tasks: {t: {inputs: null, taskInfo: null, dependentTasks: null}}}}", true},
		{"null list element", "root: {dag: {tasks: {t: {dependentTasks: [null, a]}}}}", true},
		{"null in a list of structs", "deploymentSpec: {executors: {e: {container: {env: [null, {name: A}]}}}}", true},
		{"null default", "root: {inputDefinitions: {parameters: {p: {defaultValue: null}}}}", true},
		{"empty containers", "components: {}\nroot: {dag: {tasks: {t: {dependentTasks: []}}}}", true},
		{"untyped numbers", "root: {inputDefinitions: {parameters: {p: {defaultValue: {a: [1, 2.5, 1.0, 1e300, -0.0, 0.000001, 1e-7, 123456789012345678, true, null, x]}}}}}", true},
		{"importer metadata", "deploymentSpec: {executors: {e: {importer: {metadata: {k: 1.0, l: [2]}, artifactUri: {constant: 3}}}}}", true},
		{"int into float", "root: {dag: {tasks: {t: {retryPolicy: {backoffFactor: 2, maxRetryCount: 9223372036854775807}}}}}", true},
		{"float into float", "deploymentSpec: {executors: {e: {container: {resources: {cpuLimit: 0.1, memoryLimit: -0.0}}}}}", true},
		{"whole float into int", "root: {dag: {tasks: {t: {iteratorPolicy: {parallelismLimit: 2.0}}}}}", false},
		{"fraction into int", "root: {dag: {tasks: {t: {iteratorPolicy: {parallelismLimit: 2.5}}}}}", false},
		{"string into int", "root: {dag: {tasks: {t: {retryPolicy: {maxRetryCount: \"2\"}}}}}", false},
		{"list into struct", "pipelineInfo: [a]", false},
		{"number into string", "schemaVersion: 2", false},
		{"bool into string", "pipelineInfo: {name: true}", false},
		{"map into list", "root: {dag: {tasks: {t: {dependentTasks: {a: b}}}}}", false},
		{"case-insensitive field", "PipelineInfo: {name: x}", false},
		{"case-insensitive nested field", "pipelineInfo: {NAME: x}", false},
		{"unicode-folded field", "pipelineInfo: {\"\u017fchemaVersion\": x}\n\u017fchemaVersion: 2.1.0", false},
		{"unknown fields", "pipelineInfo: {name: x, extra: {a: [1.5, null]}}\nsomething: 1", true},
		{"unknown json name of a Go field", "Platforms: x", true},
		{"wrapped", "pipeline_spec: {pipelineInfo: {name: x}}\nplatform_spec: {}", true},
		{"deep untyped value", "root: {inputDefinitions: {parameters: {p: {defaultValue: " + strings.Repeat("[", 1200) + strings.Repeat("]", 1200) + "}}}}", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := []byte(tt.doc)
			if _, _, _, _, ok := decodeBoth(t, data); !ok {
				t.Fatal("test document does not decode to a mapping")
			}
			if got := checkSame(t, data); got != tt.direct {
				t.Errorf("direct decoder used: %v, want %v", got, tt.direct)
			}
		})
	}
}

// FuzzDirectMatchesJSON looks for documents where the direct decoder and
// the JSON round trip disagree. Run it with go test -fuzz.
func FuzzDirectMatchesJSON(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.yaml")
	more, _ := filepath.Glob("testdata/invalid/*.yaml")
	for _, file := range append(files, more...) {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add(loopSpec(20))
	f.Add([]byte("root: {inputDefinitions: {parameters: {p: {defaultValue: [1, 2.5, x, {a: null}]}}}}"))
	f.Add([]byte("root: {dag: {tasks: {t: {retryPolicy: {backoffFactor: 2, maxRetryCount: 3}}}}}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 64<<10 {
			return
		}
		checkSame(t, data)
	})
}

// TestDirectRandomDocs compares the direct decoder with the JSON round trip
// on random documents shaped like pipelines: mostly the fields weir knows
// with values of the right type, and now and then a wrong type, a null, an
// unknown or differently capitalised key, an odd string or number.
func TestDirectRandomDocs(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	pt := reflect.TypeFor[Pipeline]()
	used := 0
	for i := 0; i < 3000; i++ {
		root, _ := randomValue(r, pt, 0).(map[string]any)
		if root == nil {
			continue
		}
		if checkSameRoot(t, root) {
			used++
		}
	}
	// Most documents have some flaw somewhere; enough must be clean to
	// exercise the direct decoder's own results.
	t.Logf("direct decoder used for %d of 3000 documents", used)
	if used < 250 {
		t.Errorf("direct decoder used for only %d of 3000 documents", used)
	}
}

var randomKeys = []string{"", "a", "a.b", "x y", "Name", "\u017fchemaVersion", "\u212aey", "pipelinechannel--p", "-"}

var randomStrings = []string{"", "x", "STRING", "{{$}}", "<&>", "caf\u00e9", "\u2028", "\xff\xfe", "1"}

var randomFloats = []float64{0, math.Copysign(0, -1), 0.5, 1, 2, 1e21, 1e-7, 123456.789, -3, 1 << 53, 1e300, math.Inf(1), math.NaN()}

var randomInts = []int64{0, 1, -1, 3, 1 << 53, math.MaxInt64, math.MinInt64}

// randomValue returns a plain value for a field of type t, usually of a
// fitting shape.
func randomValue(r *rand.Rand, t reflect.Type, depth int) any {
	if r.Intn(40) == 0 || depth > 10 {
		return randomScalar(r)
	}
	switch t.Kind() {
	case reflect.Pointer:
		if r.Intn(15) == 0 {
			return nil
		}
		return randomValue(r, t.Elem(), depth)
	case reflect.Struct:
		m := map[string]any{}
		fields := jsonFields(t)
		for _, name := range sortedKeys(fields) {
			f := fields[name]
			if r.Intn(3) == 0 {
				continue
			}
			switch r.Intn(30) {
			case 0:
				name = strings.ToUpper(name)
			case 1:
				name += "x"
			}
			m[name] = randomValue(r, f.Type, depth+1)
		}
		if r.Intn(10) == 0 {
			m[randomKeys[r.Intn(len(randomKeys))]] = randomAny(r, depth+1)
		}
		return m
	case reflect.Map:
		m := map[string]any{}
		for n := r.Intn(3); n > 0; n-- {
			k := "k" + randomStrings[r.Intn(len(randomStrings))]
			m[k] = randomValue(r, t.Elem(), depth+1)
		}
		return m
	case reflect.Slice:
		l := make([]any, r.Intn(3))
		for i := range l {
			l[i] = randomValue(r, t.Elem(), depth+1)
		}
		return l
	case reflect.String:
		if r.Intn(20) == 0 {
			return nil
		}
		return randomStrings[r.Intn(len(randomStrings))]
	case reflect.Bool:
		return r.Intn(2) == 0
	case reflect.Int:
		if r.Intn(10) == 0 {
			return randomFloats[r.Intn(len(randomFloats))]
		}
		return randomInts[r.Intn(len(randomInts))]
	case reflect.Float64:
		if r.Intn(2) == 0 {
			return randomInts[r.Intn(len(randomInts))]
		}
		return randomFloats[r.Intn(len(randomFloats))]
	}
	return randomAny(r, depth)
}

func randomScalar(r *rand.Rand) any {
	switch r.Intn(5) {
	case 0:
		return nil
	case 1:
		return r.Intn(2) == 0
	case 2:
		return randomInts[r.Intn(len(randomInts))]
	case 3:
		return randomFloats[r.Intn(len(randomFloats))]
	}
	return randomStrings[r.Intn(len(randomStrings))]
}

// randomAny returns a value for an untyped field.
func randomAny(r *rand.Rand, depth int) any {
	if depth > 10 {
		return randomScalar(r)
	}
	switch r.Intn(4) {
	case 0:
		l := make([]any, r.Intn(4))
		for i := range l {
			l[i] = randomAny(r, depth+1)
		}
		return l
	case 1:
		m := map[string]any{}
		for n := r.Intn(3); n > 0; n-- {
			m[randomKeys[r.Intn(len(randomKeys))]] = randomAny(r, depth+1)
		}
		return m
	}
	return randomScalar(r)
}
