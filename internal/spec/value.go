package spec

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// ParameterType is the declared type of a parameter.
type ParameterType string

// The parameter types of the IR.
const (
	String              ParameterType = "STRING"
	Integer             ParameterType = "NUMBER_INTEGER"
	Double              ParameterType = "NUMBER_DOUBLE"
	Boolean             ParameterType = "BOOLEAN"
	List                ParameterType = "LIST"
	Struct              ParameterType = "STRUCT"
	TaskFinalStatusType ParameterType = "TASK_FINAL_STATUS"
	TaskConfig          ParameterType = "TASK_CONFIG"
)

// Known reports whether t is a parameter type weir understands.
func (t ParameterType) Known() bool {
	switch t {
	case String, Integer, Double, Boolean, List, Struct, TaskFinalStatusType, TaskConfig:
		return true
	}
	return false
}

// Coerce converts v, a value decoded from JSON or YAML, into the canonical Go
// representation of type t: string, int64, float64, bool, []any or
// map[string]any. An integer written as 3.0 becomes int64(3); a LIST or
// STRUCT given as a JSON string is parsed. Anything else is an error that
// names what was expected.
func Coerce(t ParameterType, v any) (any, error) {
	v = normalize(v)
	switch t {
	case String:
		if s, ok := v.(string); ok {
			return s, nil
		}
	case Integer:
		switch x := v.(type) {
		case int64:
			return x, nil
		case float64:
			if x == math.Trunc(x) && math.Abs(x) < 1<<53 {
				return int64(x), nil
			}
		case string:
			if n, err := strconv.ParseInt(strings.TrimSpace(x), 10, 64); err == nil {
				return n, nil
			}
		}
	case Double:
		switch x := v.(type) {
		case int64:
			return float64(x), nil
		case float64:
			return x, nil
		case string:
			if f, err := strconv.ParseFloat(strings.TrimSpace(x), 64); err == nil {
				return f, nil
			}
		}
	case Boolean:
		switch x := v.(type) {
		case bool:
			return x, nil
		case string:
			if b, err := strconv.ParseBool(strings.TrimSpace(x)); err == nil {
				return b, nil
			}
		}
	case List:
		switch x := v.(type) {
		case []any:
			return canonical(x), nil
		case string:
			if l, ok := parseJSON(x).([]any); ok {
				return canonical(l), nil
			}
		}
	case Struct, TaskFinalStatusType, TaskConfig:
		switch x := v.(type) {
		case map[string]any:
			return canonical(x), nil
		case string:
			if m, ok := parseJSON(x).(map[string]any); ok {
				return canonical(m), nil
			}
		}
	default:
		return nil, fmt.Errorf("unknown parameter type %q", t)
	}
	return nil, fmt.Errorf("%s is not a valid %s", describe(v), typeNoun(t))
}

// ParseCLI parses a command-line value by declared type: numbers and
// booleans from their text, LIST and STRUCT as JSON, STRING verbatim.
func ParseCLI(t ParameterType, s string) (any, error) {
	if t == String {
		return s, nil
	}
	return Coerce(t, s)
}

func typeNoun(t ParameterType) string {
	switch t {
	case String:
		return "string"
	case Integer:
		return "integer"
	case Double:
		return "number"
	case Boolean:
		return "boolean (true or false)"
	case List:
		return "list (a JSON array)"
	case Struct:
		return "struct (a JSON object)"
	}
	return strings.ToLower(string(t))
}

func describe(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case string:
		if len(x) > 40 {
			x = x[:40] + "..."
		}
		return strconv.Quote(x)
	case []any:
		return "a list"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprint(v)
}

// parseJSON decodes a JSON text, keeping numbers exact; nil when invalid.
func parseJSON(s string) any {
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var out any
	if err := dec.Decode(&out); err != nil || dec.More() {
		return nil
	}
	return normalize(out)
}

// canonical rewrites whole numbers inside a list or struct as integers:
// JSON does not tell 1 from 1.0, and YAML defaults written by the compiler
// (e.g. [1.0, 2.0] for [1, 2]) should reach a step as the user wrote them.
// v must already be normalized (every caller has just done so): normalizing
// it again would copy a long default list once more for nothing. The result
// shares no list or map with v.
func canonical[T any](v T) T {
	var walk func(any) any
	walk = func(v any) any {
		switch x := v.(type) {
		case float64:
			if x == math.Trunc(x) && math.Abs(x) < 1<<53 {
				return int64(x)
			}
		case []any:
			out := make([]any, len(x))
			for i, e := range x {
				out[i] = walk(e)
			}
			return out
		case map[string]any:
			out := make(map[string]any, len(x))
			for k, e := range x {
				out[k] = walk(e)
			}
			return out
		}
		return v
	}
	return walk(any(v)).(T)
}

// normalize turns json.Number and the integer kinds into int64 or float64,
// recursively, so that values compare and marshal predictably.
func normalize(v any) any {
	switch x := v.(type) {
	case json.Number:
		if n, err := x.Int64(); err == nil {
			return n
		}
		f, _ := x.Float64()
		return f
	case int:
		return int64(x)
	case int32:
		return int64(x)
	case float32:
		return float64(x)
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = normalize(e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = normalize(e)
		}
		return out
	}
	return v
}

// Normalize exposes the numeric normalisation for values decoded elsewhere
// (executor outputs, stored JSON).
func Normalize(v any) any { return normalize(v) }

// FormatValue renders a parameter value the way KFP substitutes it into a
// command line: strings verbatim, integers without a decimal point, other
// values as JSON.
func FormatValue(v any) string {
	switch x := normalize(v).(type) {
	case nil:
		return ""
	case string:
		return x
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		// Whole doubles keep a decimal point, as Python's str() writes them.
		if x == math.Trunc(x) && math.Abs(x) < 1e16 {
			return strconv.FormatFloat(x, 'f', 1, 64)
		}
		return strconv.FormatFloat(x, 'g', -1, 64)
	case bool:
		return strconv.FormatBool(x)
	default:
		// As Python's json.dumps writes it: no HTML escaping of < > &.
		var b strings.Builder
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(x); err != nil {
			return fmt.Sprint(x)
		}
		return strings.TrimSuffix(b.String(), "\n")
	}
}
