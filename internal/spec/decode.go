package spec

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"reflect"
	"sort"
	"strings"
	"sync"

	yaml "go.yaml.in/yaml/v3"
)

// Decode parses a compiled pipeline (YAML or JSON, one or two documents) and
// validates it. file names the document in errors and warnings. It returns
// the pipeline, warnings for fields weir does not understand, and a
// *ValidationError listing every problem found.
func Decode(file string, data []byte) (*Pipeline, []Warning, error) {
	docs, err := splitDocuments(file, data)
	if err != nil {
		return nil, nil, err
	}
	if len(docs) == 0 {
		return nil, nil, &ValidationError{Errors: []*FieldError{{File: file, Msg: "empty document: expected a compiled pipeline"}}}
	}
	if len(docs) > 2 {
		return nil, nil, &ValidationError{Errors: []*FieldError{{File: file, Msg: fmt.Sprintf("%d YAML documents: expected the pipeline spec and at most one platform spec", len(docs))}}}
	}
	root, ok := docs[0].(map[string]any)
	if !ok {
		return nil, nil, &ValidationError{Errors: []*FieldError{{File: file, Msg: "expected a mapping at the top level"}}}
	}
	// A spec wrapped as {pipelineSpec: ..., platformSpec: ...} (the API's
	// shape) is unwrapped here too.
	if inner, ok := root["pipeline_spec"].(map[string]any); ok && root["root"] == nil {
		if ps, ok := root["platform_spec"]; ok {
			docs = append(docs[:1], ps)
		}
		root = inner
	}
	// The direct decoder handles the documents the compiler writes; anything
	// it is not certain about goes through encoding/json, whose result and
	// errors are the reference (see direct.go).
	p := &Pipeline{}
	if !decodeDirect(root, p) {
		p = &Pipeline{}
		if err := decodeJSON(file, root, p); err != nil {
			return nil, nil, err
		}
	}
	var warns []Warning
	unknownFields(reflect.TypeOf(*p), root, make(docPath, 0, 16), func(path string) {
		warns = append(warns, Warning{File: file, Path: path, Msg: "field not understood by weir; ignored"})
	})
	if len(docs) == 2 && docs[1] != nil {
		plat, err := json.Marshal(docs[1])
		if err != nil {
			return nil, nil, fmt.Errorf("%s: re-encode platform spec: %w", file, err)
		}
		p.Platforms = plat
		warns = append(warns, platformWarnings(file, plat)...)
	}
	sort.Slice(warns, func(i, j int) bool { return warns[i].Path < warns[j].Path })
	if err := Validate(file, p); err != nil {
		return nil, warns, err
	}
	return p, warns, nil
}

// decodeJSON decodes root into p through a JSON encoding, with numbers in
// untyped fields kept as json.Number.
func decodeJSON(file string, root map[string]any, p *Pipeline) error {
	raw, err := json.Marshal(root)
	if err != nil {
		return fmt.Errorf("%s: re-encode: %w", file, err)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(p); err != nil {
		path := jsonErrorPath(err)
		if at, ok := mismatchPath(reflect.TypeOf(p), root, make(docPath, 0, 16)); ok {
			path = at.String()
		}
		return &ValidationError{Errors: []*FieldError{{File: file, Path: path, Msg: jsonErrorMsg(err)}}}
	}
	return nil
}

// mismatchPath walks a decoded document alongside the Go type it failed to
// decode into, in the order encoding/json met its values (keys sorted, as
// json.Marshal wrote them), and returns the path of the first value of the
// wrong kind: unlike the error's own field path, it names map keys and list
// indexes (deploymentSpec.executors.exec-a.container.command[0], not
// deploymentSpec.executors.container.command).
func mismatchPath(t reflect.Type, v any, path docPath) (docPath, bool) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if v == nil || reflect.PointerTo(t).Implements(jsonUnmarshaler) {
		return nil, false // null fits anything; custom decoders decide for themselves
	}
	switch t.Kind() {
	case reflect.Interface:
		return nil, false
	case reflect.Struct, reflect.Map:
		m, ok := v.(map[string]any)
		if !ok {
			return path, true
		}
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var fields map[string]reflect.StructField
		if t.Kind() == reflect.Struct {
			fields = jsonFields(t)
		}
		for _, k := range keys {
			var et reflect.Type
			if fields == nil {
				et = t.Elem()
			} else if f, ok := fields[k]; ok {
				et = f.Type
			} else {
				continue
			}
			if at, ok := mismatchPath(et, m[k], path.key(k)); ok {
				return at, true
			}
		}
		return nil, false
	case reflect.Slice:
		l, ok := v.([]any)
		if !ok {
			return path, true
		}
		for i, e := range l {
			if at, ok := mismatchPath(t.Elem(), e, path.elem(i)); ok {
				return at, true
			}
		}
		return nil, false
	case reflect.String:
		_, ok := v.(string)
		return path, !ok
	case reflect.Bool:
		_, ok := v.(bool)
		return path, !ok
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64:
		switch v.(type) {
		case int, int64, float64, json.Number:
			return nil, false
		}
		return path, true
	}
	return nil, false
}

var jsonUnmarshaler = reflect.TypeFor[json.Unmarshaler]()

// splitDocuments decodes every YAML document in data into plain Go values
// (map[string]any, []any, string, int64, float64, bool, nil), rejecting
// duplicate keys.
func splitDocuments(file string, data []byte) ([]any, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var docs []any
	for {
		var n yaml.Node
		err := dec.Decode(&n)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, &ValidationError{Errors: []*FieldError{{File: file, Msg: "not valid YAML: " + strings.TrimPrefix(err.Error(), "yaml: ")}}}
		}
		e := &errs{file: file}
		v := nodeValue(&n, make(docPath, 0, 16), e)
		if err := e.err(); err != nil {
			return nil, err
		}
		if v != nil {
			docs = append(docs, v)
		}
	}
	return docs, nil
}

// nodeValue converts the YAML node n, found at path, into a plain value,
// reporting problems to e.
func nodeValue(n *yaml.Node, path docPath, e *errs) any {
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return nil
		}
		return nodeValue(n.Content[0], path, e)
	case yaml.AliasNode:
		return nodeValue(n.Alias, path, e)
	case yaml.MappingNode:
		m := make(map[string]any, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i].Value
			if _, dup := m[k]; dup {
				e.addAt(path.key(k), "duplicate key %q (line %d)", k, n.Content[i].Line)
				continue
			}
			m[k] = nodeValue(n.Content[i+1], path.key(k), e)
		}
		return m
	case yaml.SequenceNode:
		l := make([]any, len(n.Content))
		for i, c := range n.Content {
			l[i] = nodeValue(c, path.elem(i), e)
		}
		return l
	case yaml.ScalarNode:
		return scalarValue(n, path, e)
	}
	return nil
}

func scalarValue(n *yaml.Node, path docPath, e *errs) any {
	switch n.ShortTag() {
	case "!!null":
		return nil
	case "!!bool":
		var b bool
		if err := n.Decode(&b); err != nil {
			e.addAt(path, "invalid boolean %q", n.Value)
		}
		return b
	case "!!int":
		var i int64
		if err := n.Decode(&i); err != nil {
			var f float64
			if err2 := n.Decode(&f); err2 != nil {
				e.addAt(path, "invalid integer %q", n.Value)
			}
			return f
		}
		return i
	case "!!float":
		var f float64
		if err := n.Decode(&f); err != nil {
			e.addAt(path, "invalid number %q", n.Value)
		}
		if math.IsInf(f, 0) || math.IsNaN(f) {
			e.addAt(path, "number %q cannot be represented in JSON", n.Value)
			return nil
		}
		return f
	}
	return n.Value
}

// unknownFields walks a decoded document alongside the Go type it was
// decoded into and calls report for every key the type does not declare.
func unknownFields(t reflect.Type, v any, path docPath, report func(string)) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Struct:
		m, ok := v.(map[string]any)
		if !ok {
			return
		}
		fields := jsonFields(t)
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			f, ok := fields[k]
			if !ok {
				report(path.key(k).String())
				continue
			}
			unknownFields(f.Type, m[k], path.key(k), report)
		}
	case reflect.Map:
		m, ok := v.(map[string]any)
		if !ok {
			return
		}
		for k, e := range m {
			unknownFields(t.Elem(), e, path.key(k), report)
		}
	case reflect.Slice:
		l, ok := v.([]any)
		if !ok {
			return
		}
		for i, e := range l {
			unknownFields(t.Elem(), e, path.elem(i), report)
		}
	}
}

// fieldCache holds jsonFields' answer per struct type: unknownFields asks
// once for every mapping in a document, and the answer never changes.
var fieldCache sync.Map // reflect.Type -> map[string]reflect.StructField

// jsonFields maps the JSON names of t's fields to the fields. The map is
// shared and must not be modified.
func jsonFields(t reflect.Type) map[string]reflect.StructField {
	if m, ok := fieldCache.Load(t); ok {
		return m.(map[string]reflect.StructField)
	}
	m, _ := fieldCache.LoadOrStore(t, structFields(t))
	return m.(map[string]reflect.StructField)
}

func structFields(t reflect.Type) map[string]reflect.StructField {
	out := make(map[string]reflect.StructField, t.NumField())
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" || !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		out[name] = f
	}
	return out
}

func jsonErrorPath(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return te.Field
	}
	return ""
}

func jsonErrorMsg(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fmt.Sprintf("expected %s, found %s", kindNoun(te.Type), te.Value)
	}
	return err.Error()
}

func kindNoun(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Struct, reflect.Map:
		return "a mapping"
	case reflect.Slice:
		return "a list"
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Int, reflect.Int64, reflect.Float64:
		return "a number"
	}
	return t.String()
}

// DocumentJSON renders a pipeline document (YAML or JSON, one or two
// documents) as one JSON object: the spec itself, or
// {"pipeline_spec": ..., "platform_spec": ...} when it has a platform part.
func DocumentJSON(data []byte) ([]byte, error) {
	docs, err := splitDocuments("", data)
	if err != nil {
		return nil, err
	}
	switch len(docs) {
	case 0:
		return nil, fmt.Errorf("empty document")
	case 1:
		return json.Marshal(docs[0])
	}
	return json.Marshal(map[string]any{"pipeline_spec": docs[0], "platform_spec": docs[1]})
}
