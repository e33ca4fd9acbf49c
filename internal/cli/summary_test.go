package cli

import (
	"bytes"
	"encoding/json"
	"math/rand"
	"testing"
)

// TestIndentJSONMatchesEncodingJSON: writeJSON's indentation is exactly
// encoding/json's, on awkward values and on a real run summary.
func TestIndentJSONMatchesEncodingJSON(t *testing.T) {
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

func TestIndentJSONRandom(t *testing.T) {
	rng := rand.New(rand.NewSource(7))
	alphabet := []rune(`ab{}[],:"\ ` + "\n\t\x01é☃\u2028")
	str := func() string {
		r := make([]rune, rng.Intn(6))
		for i := range r {
			r[i] = alphabet[rng.Intn(len(alphabet))]
		}
		return string(r)
	}
	var gen func(depth int) any
	gen = func(depth int) any {
		switch k := rng.Intn(7); {
		case depth > 3 || k == 0:
			return str()
		case k == 1:
			return rng.NormFloat64() * 1e6
		case k == 2:
			return rng.Intn(2) == 0
		case k == 3:
			return nil
		case k == 4:
			l := make([]any, rng.Intn(4))
			for i := range l {
				l[i] = gen(depth + 1)
			}
			return l
		default:
			m := map[string]any{}
			for i := rng.Intn(4); i > 0; i-- {
				m[str()] = gen(depth + 1)
			}
			return m
		}
	}
	for i := 0; i < 2000; i++ {
		v := gen(0)
		var want, got bytes.Buffer
		enc := json.NewEncoder(&want)
		enc.SetIndent("", "  ")
		if err := enc.Encode(v); err != nil {
			t.Fatal(err)
		}
		if err := writeJSON(&got, v); err != nil {
			t.Fatal(err)
		}
		if got.String() != want.String() {
			t.Fatalf("writeJSON(%#v):\n got %q\nwant %q", v, got.String(), want.String())
		}
	}
}
