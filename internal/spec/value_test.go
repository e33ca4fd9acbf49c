package spec

import (
	"reflect"
	"testing"
)

func TestCoerce(t *testing.T) {
	cases := []struct {
		typ  ParameterType
		in   any
		want any
		ok   bool
	}{
		{Integer, 3.0, int64(3), true},
		{Integer, "42", int64(42), true},
		{Integer, 3.5, nil, false},
		{Integer, "abc", nil, false},
		{Double, int64(2), 2.0, true},
		{Double, "0.25", 0.25, true},
		{Boolean, "true", true, true},
		{Boolean, "yes", nil, false},
		{String, "x", "x", true},
		{String, int64(1), nil, false},
		{List, `[1, "a", 2.5]`, []any{int64(1), "a", 2.5}, true},
		{List, []any{1.0}, []any{int64(1)}, true},
		{List, `{"a":1}`, nil, false},
		{Struct, `{"a": [1]}`, map[string]any{"a": []any{int64(1)}}, true},
		{Struct, "[1]", nil, false},
	}
	for _, c := range cases {
		got, err := Coerce(c.typ, c.in)
		if (err == nil) != c.ok || (c.ok && !reflect.DeepEqual(got, c.want)) {
			t.Errorf("Coerce(%s, %#v) = %#v, %v; want %#v ok=%v", c.typ, c.in, got, err, c.want, c.ok)
		}
	}
}

func TestFormatValue(t *testing.T) {
	for _, c := range []struct {
		in   any
		want string
	}{
		{"s", "s"}, {int64(3), "3"}, {3.0, "3.0"}, {0.5, "0.5"}, {true, "true"},
		{[]any{int64(1), "a"}, `[1,"a"]`}, {[]any{"<one>", "a&b"}, `["<one>","a&b"]`}, {map[string]any{"k": 1.5}, `{"k":1.5}`}, {nil, ""},
	} {
		if got := FormatValue(c.in); got != c.want {
			t.Errorf("FormatValue(%#v) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestParseTemplate(t *testing.T) {
	segs, err := ParseTemplate("a {{$.inputs.parameters['x']}} b {{$.outputs.artifacts['m'].uri}}{{$}}")
	if err != nil {
		t.Fatal(err)
	}
	want := []Segment{
		{Text: "a "}, {Ref: &Ref{Kind: RefInputParameter, Name: "x"}}, {Text: " b "},
		{Ref: &Ref{Kind: RefOutputArtifact, Name: "m", Attr: "uri"}}, {Ref: &Ref{Kind: RefExecutorInput}},
	}
	if !reflect.DeepEqual(segs, want) {
		t.Errorf("segments = %+v", segs)
	}
	segs, err = ParseTemplate("{{$.inputs.artifacts['a'].metadata['stage']}}")
	if err != nil || len(segs) != 1 || *segs[0].Ref != (Ref{Kind: RefInputArtifact, Name: "a", Attr: "metadata", Key: "stage"}) {
		t.Errorf("metadata key placeholder = %+v, %v", segs, err)
	}
	for _, bad := range []string{"{{$.inputs.parameters['x'}}", "{{$.inputs.artifacts['a'].metadata['k'}}", "{{$.nope}}", "{{$.inputs.artifacts['a'].size}}", "{{$.inputs.parameters['x']"} {
		if _, err := ParseTemplate(bad); err == nil {
			t.Errorf("ParseTemplate(%q) succeeded", bad)
		}
	}
}

func TestParseArgStructured(t *testing.T) {
	a, err := ParseArg(`{"IfPresent": {"InputName": "o", "Then": ["--o", {"Concat": ["{{$.inputs.parameters['o']}}", "!"]}], "Else": "--none"}}`)
	if err != nil {
		t.Fatal(err)
	}
	if a.IfPresent == nil || a.IfPresent.InputName != "o" || len(a.IfPresent.Then) != 2 || a.IfPresent.Then[1].Concat == nil || len(a.IfPresent.Else) != 1 {
		t.Errorf("parsed = %+v", a.IfPresent)
	}
	if refs := a.Refs(); len(refs) != 1 || refs[0].Name != "o" {
		t.Errorf("refs = %+v", refs)
	}
	if _, err := ParseArg(`{"Concat": "x"}`); err == nil {
		t.Error("Concat of a string accepted")
	}
}
