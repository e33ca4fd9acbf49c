package jsonenc

import (
	"bytes"
	"encoding/json"
	"math"
	"math/rand"
	"strings"
	"testing"
	"time"
)

// tricky are strings encoding/json treats specially: HTML characters,
// every kind of control character, quotes and backslashes, invalid and
// truncated UTF-8, surrogate halves, U+2028 and U+2029, U+FFFD itself.
var tricky = []string{
	"", "plain", `"quoted"`, `back\slash`, "<script>alert('&amp;')</script>",
	"\x00\x01\x07\b\t\n\v\f\r\x1b\x1f\x7f", " !#$%'()*+,-./:;=?@[]^_`{|}~",
	"\u2028\u2029", "a\u2028b\u2029c", "é ü ☃ 日本 🎉", "\ufffd", "\xff", "\xfe\xff",
	"a\xffb", "\xc3", "\xc3(", "\xe2\x82", "\xe2\x80\xa8", "\xe2\x80", "\xf0\x9f\x8e", "\xed\xa0\x80",
	"\xf4\x90\x80\x80", "\xc0\xaf", strings.Repeat("<&>", 40), "tail\xe2",
}

// marshal is the reference: what encoding/json writes for v.
func marshal(t testing.TB, v any) string {
	t.Helper()
	raw, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("json.Marshal(%#v): %v", v, err)
	}
	return string(raw)
}

// marshalNoHTML is what a json.Encoder that does not escape HTML writes.
func marshalNoHTML(t testing.TB, v any) string {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	return strings.TrimSuffix(buf.String(), "\n")
}

func checkString(t testing.TB, s string) {
	t.Helper()
	if got, want := string(AppendString([]byte("x"), s)), "x"+marshal(t, s); got != want {
		t.Errorf("AppendString(%q) = %s, want %s", s, got, want)
	}
	if got, want := string(AppendStringNoHTML(nil, s)), marshalNoHTML(t, s); got != want {
		t.Errorf("AppendStringNoHTML(%q) = %s, want %s", s, got, want)
	}
}

func TestAppendStringMatchesEncodingJSON(t *testing.T) {
	for _, s := range tricky {
		checkString(t, s)
	}
	// Every single byte, and every byte between two runes.
	for c := 0; c < 256; c++ {
		checkString(t, string([]byte{byte(c)}))
		checkString(t, "é"+string([]byte{byte(c)})+"\u2028")
	}
}

// randomString mixes the bytes and runes that matter to the encoder with
// random bytes, so that invalid UTF-8 turns up in every position.
func randomString(rng *rand.Rand) string {
	pieces := []string{"a", "Z", " ", `"`, `\`, "<", ">", "&", "\n", "\t", "\x00", "\x1f", "\x7f", "é", "☃", "🎉",
		"\u2028", "\u2029", "\ufffd", "\xff", "\xc3", "\xe2\x80", "\xed\xa0\x80", "/", "'"}
	var sb strings.Builder
	for n := rng.Intn(12); n > 0; n-- {
		if rng.Intn(4) == 0 {
			sb.WriteByte(byte(rng.Intn(256)))
		} else {
			sb.WriteString(pieces[rng.Intn(len(pieces))])
		}
	}
	return sb.String()
}

func TestAppendStringRandom(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	for i := 0; i < 20000; i++ {
		checkString(t, randomString(rng))
	}
}

func FuzzAppendString(f *testing.F) {
	for _, s := range tricky {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) { checkString(t, s) })
}

// floats are numbers on both sides of encoding/json's switches between
// decimal and exponent notation, and the extremes.
var floats = []float64{
	0, math.Copysign(0, -1), 1, -1, 0.1, 0.2 + 0.1, 1.5, -2.25, 1e-6, 9.999999999999999e-7, 1e-7, -1e-7, 1.5e-9,
	1e20, 1e21, 9.999999999999999e20, -1e21, 123456789012345678, 1 << 53, 1<<53 + 1, 1e100, 1e-100, 5e-324,
	math.MaxFloat64, -math.MaxFloat64, math.SmallestNonzeroFloat64, 3.14159, 100, 1e6, 12345.678,
}

func checkValue(t testing.TB, v any) {
	t.Helper()
	want, wantErr := json.Marshal(v)
	got, err := AppendValue([]byte("x"), v)
	switch {
	case (err != nil) != (wantErr != nil):
		t.Errorf("AppendValue(%#v): error %v, encoding/json's %v", v, err, wantErr)
	case err != nil:
		if err.Error() != wantErr.Error() {
			t.Errorf("AppendValue(%#v): error %q, encoding/json's %q", v, err, wantErr)
		}
	case string(got) != "x"+string(want):
		t.Errorf("AppendValue(%#v) = %s, want %s", v, got[1:], want)
	}
}

// fixedValues are values of every kind AppendValue writes itself, with
// the strings and numbers encoding/json treats specially, and values it
// leaves to encoding/json, alone and nested.
func fixedValues() []any {
	var values []any
	for _, f := range floats {
		values = append(values, f, -f, float32(f), -float32(f))
	}
	for _, s := range tricky {
		values = append(values, s, map[string]any{s: s}, []any{s})
	}
	values = append(values,
		nil, true, false, int(-7), int8(-128), int16(300), int32(-1<<31), int64(math.MinInt64), int64(math.MaxInt64),
		uint(7), uint8(255), uint16(65535), uint32(1<<32-1), uint64(math.MaxUint64), uintptr(42),
		json.Number("12"), json.Number("-0.5e+10"), json.Number(""), json.Number("1E-3"), json.Number("0"),
		[]any{}, []any(nil), map[string]any{}, map[string]any(nil),
		[]any{nil, []any{}, map[string]any{}, []any(nil), map[string]any(nil)},
		map[string]any{"b": 1.0, "a": 2.0, "B": "x", "": nil, "é": true, "e": false, "\u2028": []any{1.5e-9}, "<&>": "<&>",
			"日本": map[string]any{"z": map[string]any{"y": []any{int64(3), json.Number("4")}}}, "a\xffb": "bad key", "\xff": 0.0},
		map[string]any{"k1": 1, "k2": 2, "k3": 3, "k4": 4, "k5": 5, "k6": 6, "k7": 7, "k8": 8, "k9": 9, "k10": 10,
			"k11": 11, "k12": 12, "k13": 13, "k14": 14, "k15": 15, "k16": 16, "k17": 17, "k18": 18},
		// Types AppendValue leaves to encoding/json, alone and nested.
		[]string{"<a>"}, map[string]string{"b": "1", "a": "2"}, []int(nil), struct{ A string }{"&"}, time.Unix(0, 5).UTC(),
		map[string]any{"t": time.Unix(1, 0).UTC(), "raw": json.RawMessage(`{"z":1,  "a":"<"}`), "p": &struct{ X int }{1}},
		[]any{map[int]string{2: "b", 10: "a"}, [2]bool{true}, []byte("bytes")},
		map[string]any{"empty": map[string]any{}, "list": []any{[]any{}, map[string]any{"x": []any{map[string]any{}}}},
			"fallback": []any{struct{ A []int }{[]int{}}, map[string][]int{"e": {}, "f": {1, 2}}}},
	)
	return values
}

func TestAppendValueMatchesEncodingJSON(t *testing.T) {
	for _, v := range fixedValues() {
		checkValue(t, v)
	}
}

// errorValues are values encoding/json rejects, alone and nested.
func errorValues() []any {
	return []any{
		math.NaN(), math.Inf(1), math.Inf(-1), float32(math.Inf(1)), json.Number("1."), json.Number("01"),
		json.Number("1e"), json.Number("+1"), json.Number(" 1"), json.Number("1e+"), json.Number("--1"),
		map[string]any{"a": []any{1.0, math.NaN()}}, []any{map[string]any{"b": json.Number("x")}},
		map[string]any{"ch": make(chan int)},
	}
}

// TestAppendValueErrors: what encoding/json rejects is rejected, with the
// same message, wherever it is nested.
func TestAppendValueErrors(t *testing.T) {
	for _, v := range errorValues() {
		if _, err := json.Marshal(v); err == nil {
			t.Fatalf("json.Marshal(%#v) succeeded", v)
		}
		checkValue(t, v)
	}
	// A map that holds itself is handed to encoding/json before the stack
	// runs out, and encoding/json reports the cycle.
	cyclic := map[string]any{}
	cyclic["self"] = []any{cyclic}
	if _, err := AppendValue(nil, cyclic); err == nil || !strings.Contains(err.Error(), "cycle") {
		t.Errorf("cyclic map: error %v, want a cycle", err)
	}
}

// TestValidNumber compares the json.Number check with encoding/json's.
func TestValidNumber(t *testing.T) {
	for _, s := range []string{"0", "-0", "1", "-1", "10", "0.5", "-0.5e10", "1e5", "1E+5", "1e-5", "1.", ".5", "01",
		"-", "", "1e", "1e+", "1ea", "1.5.5", "1x", "0x10", "Infinity", "NaN", "1_000", "١", "1e5 ", "+0", "00", "0e0",
		"1.0E-0", "-01", "1.e5", "9007199254740993"} {
		_, err := json.Marshal(json.Number(s))
		if got, want := validNumber(s), err == nil; got != want && s != "" {
			t.Errorf("validNumber(%q) = %v, encoding/json accepts it: %v", s, got, want)
		}
		checkValue(t, json.Number(s))
	}
}

// randomValue builds JSON-like data as decoding yields it, with the
// integer and json.Number values weir also keeps.
func randomValue(rng *rand.Rand, depth int) any {
	switch k := rng.Intn(12); {
	case depth > 4 || k == 0:
		return randomString(rng)
	case k == 1:
		return randomFloat(rng)
	case k == 2:
		return rng.Intn(2) == 0
	case k == 3:
		return nil
	case k == 4:
		return rng.Int63() - rng.Int63()
	case k == 5:
		return int(rng.Int31()) - int(rng.Int31())
	case k == 6:
		return json.Number(string(finiteJSON(randomFloat(rng))))
	case k == 7:
		return float32(randomFloat(rng))
	case k <= 9:
		if rng.Intn(8) == 0 {
			return []any(nil)
		}
		l := make([]any, rng.Intn(5))
		for i := range l {
			l[i] = randomValue(rng, depth+1)
		}
		return l
	default:
		if rng.Intn(8) == 0 {
			return map[string]any(nil)
		}
		m := map[string]any{}
		for i := rng.Intn(20); i > 0; i-- {
			m[randomString(rng)] = randomValue(rng, depth+1)
		}
		return m
	}
}

// finiteJSON encodes a finite float, for json.Number values.
func finiteJSON(f float64) []byte {
	b, err := AppendFloat(nil, f, 64)
	if err != nil {
		panic(err)
	}
	return b
}

// randomFloat draws finite floats of every magnitude, with extra weight
// near encoding/json's notation cutoffs and on integers.
func randomFloat(rng *rand.Rand) float64 {
	for {
		var f float64
		switch rng.Intn(5) {
		case 0:
			f = math.Float64frombits(rng.Uint64())
		case 1:
			f = rng.NormFloat64() * math.Pow(10, float64(rng.Intn(50)-25))
		case 2:
			f = []float64{1e-6, 1e21}[rng.Intn(2)] * (1 + (rng.Float64()-0.5)*1e-15)
		case 3:
			f = float64(rng.Int63n(1 << 60))
		default:
			f = rng.NormFloat64()
		}
		if !math.IsNaN(f) && !math.IsInf(f, 0) {
			return f
		}
	}
}

func TestAppendValueRandom(t *testing.T) {
	rng := rand.New(rand.NewSource(2))
	for i := 0; i < 5000; i++ {
		checkValue(t, randomValue(rng, 0))
	}
	for i := 0; i < 100000; i++ {
		f := randomFloat(rng)
		checkValue(t, f)
		checkValue(t, float32(f))
	}
}

func FuzzAppendFloat(f *testing.F) {
	for _, x := range floats {
		f.Add(math.Float64bits(x))
	}
	f.Fuzz(func(t *testing.T, bits uint64) {
		x := math.Float64frombits(bits)
		checkValue(t, x)
		checkValue(t, float32(x))
	})
}

func TestAppendTimeMatchesEncodingJSON(t *testing.T) {
	east := time.FixedZone("east", 5*3600+30*60)
	west := time.FixedZone("west", -(23*3600 + 59*60))
	for _, tm := range []time.Time{
		{}, time.Date(2026, 11, 27, 8, 0, 0, 123456789, time.UTC), time.Date(2026, 1, 2, 3, 4, 5, 0, east),
		time.Date(2026, 1, 2, 3, 4, 5, 100, west), time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC),
		time.Date(2026, 6, 1, 0, 0, 0, 0, time.FixedZone("seconds", 3600+7)), time.Unix(1e9, 5000),
		// Times RFC 3339 cannot express: encoding/json fails on them.
		time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(2026, 1, 1, 0, 0, 0, 0, time.FixedZone("far", 24*3600)), time.Date(2026, 1, 1, 0, 0, 0, 0, time.FixedZone("farther", -100*3600)),
	} {
		want, wantErr := json.Marshal(tm)
		got, err := AppendTime([]byte("x"), tm)
		switch {
		case (err != nil) != (wantErr != nil):
			t.Errorf("AppendTime(%v): error %v, encoding/json's %v", tm, err, wantErr)
		case err != nil:
			if err.Error() != wantErr.Error() || string(got) != "x" {
				t.Errorf("AppendTime(%v) = %q, %q; want x and %q", tm, got, err, wantErr)
			}
		case string(got) != "x"+string(want):
			t.Errorf("AppendTime(%v) = %s, want %s", tm, got[1:], want)
		}
	}
}

// indents are the layouts an Encoder is checked in: compact, the two
// spaces `weir run -o json` indents by, a tab and a longer indent.
var indents = []string{"", "  ", "\t", "    "}

// marshalIndent is the reference for an Encoder: json.Marshal's bytes
// when compact, otherwise json.MarshalIndent's with an empty prefix,
// which are a json.Encoder's with SetIndent but for its final newline.
func marshalIndent(v any, indent string) ([]byte, error) {
	if indent == "" {
		return json.Marshal(v)
	}
	return json.MarshalIndent(v, "", indent)
}

// checkIndent compares an Encoder's AppendValue with encoding/json, errors
// included, on v at the top level and on v nested two levels deep, where
// each line is indented further.
func checkIndent(t testing.TB, v any, indent string) {
	t.Helper()
	want, wantErr := marshalIndent(v, indent)
	e := NewEncoder(indent)
	got, err := e.AppendValue([]byte("x"), v)
	switch {
	case (err != nil) != (wantErr != nil):
		t.Fatalf("indent %q: AppendValue(%#v): error %v, encoding/json's %v", indent, v, err, wantErr)
	case err != nil:
		if err.Error() != wantErr.Error() {
			t.Fatalf("indent %q: AppendValue(%#v): error %q, encoding/json's %q", indent, v, err, wantErr)
		}
		return
	case string(got) != "x"+string(want):
		t.Fatalf("indent %q: AppendValue(%#v) =\n%s\nwant\n%s", indent, v, got[1:], want)
	}
	// The same value as the first element of a list and under a key of
	// an object that is the list's second element, the object written
	// member by member as report's encoders write theirs.
	want, wantErr = marshalIndent([]any{v, map[string]any{"k": v}}, indent)
	if wantErr != nil {
		t.Fatal(wantErr)
	}
	e = NewEncoder(indent)
	got = e.Open([]byte("x"), '[')
	if got, err = e.AppendValue(got, v); err != nil {
		t.Fatal(err)
	}
	got = e.Comma(got)
	got = e.Field(got, `{"k":`)
	if got, err = e.AppendValue(got, v); err != nil {
		t.Fatal(err)
	}
	got = e.Close(got, '}')
	got = e.Close(got, ']')
	if string(got) != "x"+string(want) {
		t.Fatalf("indent %q: nested AppendValue(%#v) =\n%s\nwant\n%s", indent, v, got[1:], want)
	}
}

// TestEncoderIndentMatchesEncodingJSON: an Encoder lays out every value,
// including those it leaves to encoding/json and those encoding/json
// rejects, as encoding/json does in each layout.
func TestEncoderIndentMatchesEncodingJSON(t *testing.T) {
	values := append(fixedValues(), errorValues()...)
	for _, indent := range indents {
		for _, v := range values {
			checkIndent(t, v, indent)
		}
	}
	cyclic := map[string]any{}
	cyclic["self"] = []any{cyclic}
	e := NewEncoder("  ")
	if _, err := e.AppendValue(nil, cyclic); err == nil || !strings.Contains(err.Error(), "cycle") {
		t.Errorf("indented cyclic map: error %v, want a cycle", err)
	}
}

func TestEncoderIndentRandom(t *testing.T) {
	rng := rand.New(rand.NewSource(3))
	for i := 0; i < 3000; i++ {
		v := randomValue(rng, 0)
		for _, indent := range indents {
			checkIndent(t, v, indent)
		}
	}
}

// TestEncoderAppendMap: AppendMap lays out a map as AppendValue does,
// and a nil map is null.
func TestEncoderAppendMap(t *testing.T) {
	rng := rand.New(rand.NewSource(4))
	for i := 0; i < 1000; i++ {
		v := randomValue(rng, 2)
		m, ok := v.(map[string]any)
		if !ok {
			m = map[string]any{"v": v, "w": []any{v}}
		}
		if _, err := json.Marshal(m); err != nil {
			// A float32 out of range; errors are checked above.
			continue
		}
		for _, indent := range indents {
			want, err := marshalIndent(m, indent)
			if err != nil {
				t.Fatal(err)
			}
			e := NewEncoder(indent)
			if got, err := e.AppendMap([]byte("x"), m); err != nil || string(got) != "x"+string(want) {
				t.Fatalf("indent %q: AppendMap(%#v) = %s, %v; want %s", indent, m, got, err, want)
			}
		}
	}
}

// TestAppendRawMatchesIndent: AppendRaw lays out compact JSON as
// json.Indent does, at the top level and nested.
func TestAppendRawMatchesIndent(t *testing.T) {
	rng := rand.New(rand.NewSource(5))
	values := fixedValues()
	for i := 0; i < 3000; i++ {
		values = append(values, randomValue(rng, 0))
	}
	for _, v := range values {
		raw, err := json.Marshal(v)
		if err != nil {
			// Infinities, which only AppendValue's tests need.
			continue
		}
		for _, indent := range indents {
			want := raw
			if indent != "" {
				var buf bytes.Buffer
				if err := json.Indent(&buf, raw, "", indent); err != nil {
					t.Fatal(err)
				}
				want = buf.Bytes()
			}
			e := NewEncoder(indent)
			if got := e.AppendRaw([]byte("x"), raw); string(got) != "x"+string(want) {
				t.Fatalf("indent %q: AppendRaw(%s) =\n%s\nwant\n%s", indent, raw, got[1:], want)
			}
			nested, err := marshalIndent(map[string]any{"k": json.RawMessage(raw)}, indent)
			if err != nil {
				t.Fatal(err)
			}
			e = NewEncoder(indent)
			got := e.Field([]byte("x"), `{"k":`)
			got = e.Close(e.AppendRaw(got, raw), '}')
			if string(got) != "x"+string(nested) {
				t.Fatalf("indent %q: nested AppendRaw(%s) =\n%s\nwant\n%s", indent, raw, got[1:], nested)
			}
		}
	}
}

// TestEncoderLayoutsStruct writes a struct by hand, as report's encoders
// do, and compares it with encoding/json's encoding of the struct: keys,
// nested objects and lists, and empty ones, in every layout.
func TestEncoderLayoutsStruct(t *testing.T) {
	type inner struct {
		X []any `json:"x"`
	}
	v := struct {
		A string         `json:"a"`
		B []inner        `json:"b"`
		C map[string]any `json:"c"`
		D []int          `json:"d"`
		E map[string]any `json:"e"`
	}{"<é>", []inner{{[]any{1.5, map[string]any{"y": []any{}}}}, {[]any{}}}, map[string]any{}, []int{}, map[string]any{"z": nil}}
	for _, indent := range indents {
		want, err := marshalIndent(v, indent)
		if err != nil {
			t.Fatal(err)
		}
		e := NewEncoder(indent)
		b := e.Field([]byte("x"), `{"a":`)
		b = AppendString(b, v.A)
		b = e.Field(b, `,"b":`)
		b = e.Open(b, '[')
		for i, in := range v.B {
			if i > 0 {
				b = e.Comma(b)
			}
			b = e.Field(b, `{"x":`)
			if b, err = e.AppendValue(b, in.X); err != nil {
				t.Fatal(err)
			}
			b = e.Close(b, '}')
		}
		b = e.Close(b, ']')
		b = e.Field(b, `,"c":`)
		if b, err = e.AppendMap(b, v.C); err != nil {
			t.Fatal(err)
		}
		b = e.Field(b, `,"d":`)
		b = append(b, '[', ']')
		b = e.Field(b, `,"e":`)
		b = e.Open(b, '{')
		b = AppendString(b, "z")
		b = e.Colon(b)
		b = append(b, "null"...)
		b = e.Close(b, '}')
		b = e.Close(b, '}')
		if string(b) != "x"+string(want) {
			t.Errorf("indent %q: wrote\n%s\nwant\n%s", indent, b[1:], want)
		}
	}
}

func BenchmarkAppendValue(b *testing.B) {
	v := map[string]any{"rows": int64(12000), "score": 0.1428571428571, "label": "shard \u20283", "tags": []any{"a", "b"},
		"nested": map[string]any{"name": "out <3>", "ok": true}}
	var buf []byte
	for b.Loop() {
		buf, _ = AppendValue(buf[:0], v)
	}
}

func BenchmarkEncoderIndentValue(b *testing.B) {
	v := map[string]any{"rows": int64(12000), "score": 0.1428571428571, "label": "shard \u20283", "tags": []any{"a", "b"},
		"nested": map[string]any{"name": "out <3>", "ok": true}}
	var buf []byte
	for b.Loop() {
		e := NewEncoder("  ")
		buf, _ = e.AppendValue(buf[:0], v)
	}
}
