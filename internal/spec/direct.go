package spec

import (
	"encoding"
	"encoding/json"
	"math"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"
)

// The reference for turning a document's plain values into a Pipeline is a
// round trip through encoding/json: json.Marshal of the values, then a
// json.Decoder with UseNumber into the Pipeline (decodeJSON). Its errors are
// the ones Decode reports. Encoding and decoding a whole spec as JSON is slow,
// though, and the result is known in advance for the values a compiled
// pipeline consists of, so decodeDirect stores those values straight into the
// Pipeline instead.
//
// decodeDirect accepts only values for which the round trip's result is
// certain, and gives up (returns false) on everything else: a value of the
// wrong type for its field, a key that encoding/json would match to a field
// case-insensitively, a string that is not valid UTF-8 (JSON would replace
// its bad bytes), a number that JSON cannot represent, a float where an
// integer is expected, nesting deeper than the JSON decoder allows. Decode
// then runs the round trip, so every doubtful case, and every error, is
// still decided by encoding/json. The tests compare the two on the testdata
// pipelines and on random documents.

// decodeDirect stores root into p, which must be a new Pipeline, exactly as
// decodeJSON would. It returns false, leaving p in an unspecified state, when
// it cannot be sure of that.
func decodeDirect(root map[string]any, p *Pipeline) bool {
	ps := pipelinePlans()
	if ps == nil {
		return false
	}
	return ps.assign(reflect.ValueOf(p).Elem(), root, 0)
}

// maxDirectDepth bounds the nesting of lists and mappings the direct decoder
// accepts. The JSON decoder rejects documents nested more than 10000 deep,
// which YAML aliases can produce; compiled pipelines stay far below either
// limit.
const maxDirectDepth = 1000

// structPlan is how encoding/json sees one struct type.
type structPlan struct {
	fields map[string]int  // the JSON name of each field -> its index
	folded map[string]bool // every JSON name in folded form (see foldKey)
}

// plans holds a structPlan for every struct type reachable from Pipeline.
type plans map[reflect.Type]*structPlan

// pipelinePlans returns the plans for Pipeline, or nil when some type
// reachable from it is outside what assign handles, which turns the direct
// decoder off altogether.
var pipelinePlans = sync.OnceValue(func() plans {
	ps := plans{}
	if !ps.add(reflect.TypeFor[Pipeline]()) {
		return nil
	}
	return ps
})

var (
	jsonUnmarshalerType = reflect.TypeFor[json.Unmarshaler]()
	textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()
	jsonNumberType      = reflect.TypeFor[json.Number]()
	stringType          = reflect.TypeFor[string]()
)

// add records the plans for t and the types it contains, and reports
// whether assign can handle all of them the way encoding/json does.
func (ps plans) add(t reflect.Type) bool {
	// Types with their own decoding methods are decoded by those methods.
	if pt := reflect.PointerTo(t); pt.Implements(jsonUnmarshalerType) || pt.Implements(textUnmarshalerType) {
		return false
	}
	switch t.Kind() {
	case reflect.String:
		return t != jsonNumberType
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Float64:
		return true
	case reflect.Interface:
		return t.NumMethod() == 0
	case reflect.Pointer, reflect.Slice:
		// Byte slices, which JSON writes as base64, are excluded because
		// uint8 is not accepted.
		return ps.add(t.Elem())
	case reflect.Map:
		return t.Key() == stringType && ps.add(t.Elem())
	case reflect.Struct:
		if _, seen := ps[t]; seen {
			return true
		}
		sp := &structPlan{fields: map[string]int{}, folded: map[string]bool{}}
		ps[t] = sp
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			if f.Anonymous {
				return false // embedded fields have their own matching rules
			}
			if !f.IsExported() {
				continue
			}
			tag := f.Tag.Get("json")
			if tag == "-" {
				continue
			}
			name, opts, _ := strings.Cut(tag, ",")
			if opts != "" && opts != "omitempty" {
				return false // e.g. ",string" changes how the value is decoded
			}
			if name == "" {
				name = f.Name
			}
			if !simpleName(name) || sp.folded[foldKey(name)] {
				return false
			}
			if !ps.add(f.Type) {
				return false
			}
			sp.fields[name] = i
			sp.folded[foldKey(name)] = true
		}
		return true
	}
	return false
}

// simpleName reports whether a JSON field name is plain ASCII that
// encoding/json uses as written.
func simpleName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c == '_' || c == '-' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// foldKey lower-cases an ASCII key and drops dashes and underscores. Two
// names that encoding/json could match case-insensitively have the same
// folded form (it is coarser than encoding/json's own folding, which only
// makes the direct decoder give up more often).
func foldKey(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '-' || c == '_':
		case c >= 'A' && c <= 'Z':
			b.WriteByte(c + 'a' - 'A')
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// ignorable reports whether encoding/json certainly ignores key k when
// decoding into the struct: it names no field, not even case-insensitively.
func (sp *structPlan) ignorable(k string) bool {
	for i := 0; i < len(k); i++ {
		if k[i] >= utf8.RuneSelf {
			// Some non-ASCII letters fold to ASCII ones (ſ to s, K to k).
			return false
		}
	}
	return !sp.folded[foldKey(k)]
}

// assign stores the plain value v (as produced by nodeValue), found inside
// depth lists and mappings, into dst.
func (ps plans) assign(dst reflect.Value, v any, depth int) bool {
	if v == nil {
		// JSON null clears pointers, maps, slices and interfaces and leaves
		// every other kind of value alone.
		switch dst.Kind() {
		case reflect.Interface, reflect.Pointer, reflect.Map, reflect.Slice:
			dst.SetZero()
		}
		return true
	}
	if depth > maxDirectDepth {
		return false
	}
	switch dst.Kind() {
	case reflect.Pointer:
		p := reflect.New(dst.Type().Elem())
		if !ps.assign(p.Elem(), v, depth) {
			return false
		}
		dst.Set(p)
		return true
	case reflect.Struct:
		m, ok := v.(map[string]any)
		if !ok {
			return false
		}
		sp := ps[dst.Type()]
		for k, e := range m {
			if i, ok := sp.fields[k]; ok {
				if !ps.assign(dst.Field(i), e, depth+1) {
					return false
				}
				continue
			}
			// json.Marshal fails on a value it cannot encode even when
			// the decoder would then skip it.
			if !sp.ignorable(k) || !encodable(e, depth+1) {
				return false
			}
		}
		return true
	case reflect.Map:
		m, ok := v.(map[string]any)
		if !ok {
			return false
		}
		out := reflect.MakeMapWithSize(dst.Type(), len(m))
		et := dst.Type().Elem()
		for k, e := range m {
			if !utf8.ValidString(k) {
				return false
			}
			ev := reflect.New(et).Elem()
			if !ps.assign(ev, e, depth+1) {
				return false
			}
			out.SetMapIndex(reflect.ValueOf(k), ev)
		}
		dst.Set(out)
		return true
	case reflect.Slice:
		l, ok := v.([]any)
		if !ok {
			return false
		}
		// An empty list decodes as an empty slice, not a nil one.
		out := reflect.MakeSlice(dst.Type(), len(l), len(l))
		for i, e := range l {
			if !ps.assign(out.Index(i), e, depth+1) {
				return false
			}
		}
		dst.Set(out)
		return true
	case reflect.String:
		s, ok := v.(string)
		if !ok || !utf8.ValidString(s) {
			return false
		}
		dst.SetString(s)
		return true
	case reflect.Bool:
		b, ok := v.(bool)
		if !ok {
			return false
		}
		dst.SetBool(b)
		return true
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		// JSON writes an int64 in decimal and reads it back with
		// strconv.ParseInt. A float (even a whole one) is left to JSON.
		n, ok := v.(int64)
		if !ok || dst.OverflowInt(n) {
			return false
		}
		dst.SetInt(n)
		return true
	case reflect.Float64:
		switch x := v.(type) {
		case int64:
			// strconv.ParseFloat of the decimal text rounds to nearest
			// even, as the conversion does.
			dst.SetFloat(float64(x))
			return true
		case float64:
			// JSON writes the shortest text that reads back as x, and
			// cannot write infinities or NaN at all.
			if math.IsInf(x, 0) || math.IsNaN(x) {
				return false
			}
			dst.SetFloat(x)
			return true
		}
		return false
	case reflect.Interface:
		x, ok := untyped(v, depth)
		if !ok {
			return false
		}
		dst.Set(reflect.ValueOf(x))
		return true
	}
	return false
}

// untyped returns what a JSON decoder with UseNumber produces for v in an
// interface value: the same strings, booleans, lists and maps, with numbers
// as json.Number holding the text json.Marshal writes for them.
func untyped(v any, depth int) (any, bool) {
	if depth > maxDirectDepth {
		return nil, false
	}
	switch x := v.(type) {
	case nil, bool:
		return v, true
	case string:
		return v, utf8.ValidString(x)
	case int64:
		return json.Number(strconv.FormatInt(x, 10)), true
	case float64:
		b, err := json.Marshal(x)
		if err != nil {
			return nil, false
		}
		return json.Number(b), true
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			var ok bool
			if out[i], ok = untyped(e, depth+1); !ok {
				return nil, false
			}
		}
		return out, true
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			u, ok := untyped(e, depth+1)
			if !ok || !utf8.ValidString(k) {
				return nil, false
			}
			out[k] = u
		}
		return out, true
	}
	return nil, false
}

// encodable reports whether json.Marshal certainly encodes v without error
// and the JSON decoder can then skip it.
func encodable(v any, depth int) bool {
	if depth > maxDirectDepth {
		return false
	}
	switch x := v.(type) {
	case nil, bool, string, int64:
		return true
	case float64:
		return !math.IsInf(x, 0) && !math.IsNaN(x)
	case []any:
		for _, e := range x {
			if !encodable(e, depth+1) {
				return false
			}
		}
		return true
	case map[string]any:
		for _, e := range x {
			if !encodable(e, depth+1) {
				return false
			}
		}
		return true
	}
	return false
}
