// Package jsonenc writes JSON by appending to a byte slice, without
// reflection, producing exactly the bytes encoding/json writes for the
// same values, compact or indented. Weir encodes two things often enough
// for encoding/json's reflection to show: the journal record written
// after every round of a run, and the summary of a run, which for a loop
// of thousands of iterations holds thousands of tasks. Both are made of
// strings, times and parameter values decoded from JSON, which is all
// this package handles; anything else is left to encoding/json, so that
// the output never depends on which encoder wrote it.
package jsonenc

import (
	"encoding/json"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

const hexDigits = "0123456789abcdef"

// safe and htmlSafe tell which ASCII bytes encoding/json copies into a
// string as they are: every printable byte except the quote and the
// backslash and, when it escapes HTML, except <, > and & too.
var safe, htmlSafe = func() (s, h [utf8.RuneSelf]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		s[c] = c != '"' && c != '\\'
		h[c] = s[c] && c != '<' && c != '>' && c != '&'
	}
	return s, h
}()

// AppendString appends s as json.Marshal writes a string: quoted, with
// control characters, <, >, &, U+2028 and U+2029 escaped and each byte of
// invalid UTF-8 replaced by \ufffd.
func AppendString(b []byte, s string) []byte { return appendString(b, s, &htmlSafe) }

// AppendStringNoHTML appends s as a json.Encoder with SetEscapeHTML(false)
// writes a string: like AppendString, but <, > and & are kept as they are.
// It suits JSON that no browser sees, such as the journal.
func AppendStringNoHTML(b []byte, s string) []byte { return appendString(b, s, &safe) }

// appendString follows encoding/json's string encoder byte for byte; the
// table says which ASCII bytes need no escape.
func appendString(b []byte, s string, table *[utf8.RuneSelf]bool) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if table[c] {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '\\', '"':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				// Other control characters, and <, > and & when
				// escaping HTML.
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i++
			start = i
			continue
		}
		// U+2028 and U+2029 are valid in JSON but end a line in
		// JavaScript; encoding/json always escapes them.
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// AppendTime appends t as encoding/json writes a time.Time: RFC 3339 with
// nanoseconds, quoted. Like encoding/json it fails for a time that RFC 3339
// cannot express (a year outside [0,9999], a zone offset of 24 hours or
// more), with encoding/json's error.
func AppendTime(b []byte, t time.Time) ([]byte, error) {
	n0 := len(b)
	b = append(b, '"')
	b = t.AppendFormat(b, time.RFC3339Nano)
	// The checks of time.Time.MarshalJSON: the year must be exactly four
	// digits wide and the zone's hour two digits below 24.
	f := b[n0+1:]
	bad := f[4] != '-'
	if !bad && f[len(f)-1] != 'Z' {
		c := f[len(f)-len("Z07:00")]
		h := f[len(f)-len("07:00"):]
		bad = '0' <= c && c <= '9' || 10*(h[0]-'0')+(h[1]-'0') >= 24
	}
	if bad {
		raw, err := json.Marshal(t)
		if err != nil {
			return b[:n0], err
		}
		return append(b[:n0], raw...), nil
	}
	return append(b, '"'), nil
}

// AppendFloat appends f as encoding/json writes a float of the given size
// (32 or 64 bits): like strconv's shortest 'f' format, or 'e' for
// magnitudes below 1e-6 or from 1e21 on, with a one-digit negative
// exponent not padded to two. NaN and infinities are an error, as they are
// for encoding/json.
func AppendFloat(b []byte, f float64, bits int) ([]byte, error) {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		var err error
		if bits == 32 {
			_, err = json.Marshal(float32(f))
		} else {
			_, err = json.Marshal(f)
		}
		return b, err
	}
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 {
		if bits == 64 && (abs < 1e-6 || abs >= 1e21) || bits == 32 && (float32(abs) < 1e-6 || float32(abs) >= 1e21) {
			format = 'e'
		}
	}
	b = strconv.AppendFloat(b, f, format, -1, bits)
	if format == 'e' {
		// Turn e-07 into e-7.
		n := len(b)
		if n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b, nil
}

// maxDepth bounds how deep AppendValue recurses itself. JSON-decoded data
// cannot be cyclic, but a map that holds itself could reach it; below this
// depth encoding/json takes over, and reports the cycle as it would.
const maxDepth = 500

// An Encoder lays out the JSON it appends either compact, as json.Marshal
// writes it, or indented, as a json.Encoder with SetIndent("", indent)
// writes it (without the final newline). Indenting as the values are
// written spares a second pass over the compact bytes and a second buffer,
// which for the summary of a run of thousands of tasks cost as much as
// encoding it.
//
// Besides encoding values, an Encoder lays out the brackets, commas and
// keys of objects encoded by hand (Field, Open, Comma, Colon, Close), so
// that one hand-written encoder serves both layouts. In the indented
// layout it keeps track of how deeply the output is nested; after an
// error that depth is lost, and the Encoder must not be used again.
//
// The zero Encoder is compact.
type Encoder struct {
	indent string
	// lines is a newline followed by indent repeated: a line break at
	// depth d is its first 1+d*len(indent) bytes, appended at once
	// rather than one indent at a time.
	lines []byte
	depth int
}

// NewEncoder returns an Encoder that indents by indent per level, or a
// compact one when indent is empty, as a json.Encoder with an empty
// indent and prefix is compact.
func NewEncoder(indent string) Encoder { return Encoder{indent: indent} }

// Field appends sep, the compact text that opens an object and names its
// first member, or ends a member and names the next: `{"key":` or
// `,"key":`, with a key that needs no escape. Indented, a line break
// follows the bracket or comma and a space the colon. A compact Encoder
// appends sep as it is, as fast as the bytes can be copied.
func (e *Encoder) Field(b []byte, sep string) []byte {
	if e.indent == "" {
		return append(b, sep...)
	}
	return e.field(b, sep)
}

func (e *Encoder) field(b []byte, sep string) []byte {
	b = e.indented(b, sep[0])
	b = append(b, sep[1:len(sep)-1]...)
	return append(b, ':', ' ')
}

// Open appends c, the '{' or '[' that opens an object or array that is not
// empty. An empty one is written "{}" or "[]", in both layouts, without
// Open and Close.
func (e *Encoder) Open(b []byte, c byte) []byte {
	if e.indent == "" {
		return append(b, c)
	}
	return e.indented(b, c)
}

// Close appends c, the '}' or ']' that closes what Open opened.
func (e *Encoder) Close(b []byte, c byte) []byte {
	if e.indent == "" {
		return append(b, c)
	}
	return e.indented(b, c)
}

// Comma appends the comma that separates two members or elements.
func (e *Encoder) Comma(b []byte) []byte {
	if e.indent == "" {
		return append(b, ',')
	}
	return e.indented(b, ',')
}

// Colon appends the colon that follows a key.
func (e *Encoder) Colon(b []byte) []byte {
	if e.indent == "" {
		return append(b, ':')
	}
	return append(b, ':', ' ')
}

// indented appends c, a bracket, comma or colon, as the indented layout
// writes it: an opening bracket or a comma followed by a line break, a
// closing bracket preceded by one, a colon followed by a space. Field,
// Open, Close and Comma leave this work to it, out of line: kept that
// small, they are inlined, and a compact Encoder spends no call on a
// bracket or comma.
func (e *Encoder) indented(b []byte, c byte) []byte {
	switch c {
	case '{', '[':
		e.depth++
		return e.newline(append(b, c))
	case '}', ']':
		e.depth--
		return append(e.newline(b), c)
	case ',':
		return e.newline(append(b, c))
	default:
		return append(b, ':', ' ')
	}
}

// newline starts a line at the current depth.
func (e *Encoder) newline(b []byte) []byte {
	n := 1 + e.depth*len(e.indent)
	if len(e.lines) < n {
		e.growLines()
	}
	return append(b, e.lines[:n]...)
}

// growLines makes lines long enough for the current depth and eight
// levels more, so that it is rarely grown twice.
func (e *Encoder) growLines() {
	levels := e.depth + 8
	lines := make([]byte, 1, 1+levels*len(e.indent))
	lines[0] = '\n'
	for range levels {
		lines = append(lines, e.indent...)
	}
	e.lines = lines
}

// AppendRaw appends raw, compact JSON as json.Marshal writes it (no space
// outside strings), laid out by e at its current depth: as it is when
// compact, otherwise as json.Indent with an empty prefix would indent it,
// with a line break and indent after an opening bracket and after a
// comma, ": " after a key, and "{}" or "[]" for an empty object or array.
// It is one pass over the bytes, without the scanner that json.Indent runs
// to check them, which encoding/json's output does not need.
func (e *Encoder) AppendRaw(b, raw []byte) []byte {
	if e.indent == "" {
		return append(b, raw...)
	}
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		switch c {
		case '"':
			// Copy the string through its closing quote; a backslash
			// escapes the next byte.
			j := i + 1
			for j < len(raw) && raw[j] != '"' {
				if raw[j] == '\\' {
					j++
				}
				j++
			}
			b = append(b, raw[i:min(j+1, len(raw))]...)
			i = j
		case '{', '[':
			if i+1 < len(raw) && (raw[i+1] == '}' || raw[i+1] == ']') {
				b = append(b, c, raw[i+1])
				i++
				continue
			}
			b = e.indented(b, c)
		case '}', ']', ',', ':':
			b = e.indented(b, c)
		default:
			b = append(b, c)
		}
	}
	return b
}

// AppendValue appends v as json.Marshal writes it. It handles what
// decoding JSON into an any yields (nil, bool, float64, json.Number,
// string, []any, map[string]any) and integers and float32, the other
// numbers weir keeps in parameter values; a value of any other type, even
// one nested in a map or list, is encoded by json.Marshal, so the bytes do
// not depend on the type either way. A value encoding/json rejects (NaN, an
// invalid json.Number) is an error.
func AppendValue(b []byte, v any) ([]byte, error) {
	var e Encoder
	return e.appendValue(b, v, 0)
}

// AppendValue appends v as AppendValue does, laid out by e: indented, it
// is what json.MarshalIndent(v, "", indent) writes, each line indented
// further by the depth e is at. Values of the types AppendValue leaves to
// json.Marshal are indented by AppendRaw.
func (e *Encoder) AppendValue(b []byte, v any) ([]byte, error) { return e.appendValue(b, v, 0) }

// appendValue appends v, depth levels below where AppendValue started;
// depth bounds the recursion, apart from the layout's depth.
//
// Lists here and maps in appendMap look at the layout once each, and
// append a compact one's separators, single bytes, directly. Going
// through Open, Comma, Colon and Close, as hand-written encoders do,
// costs a check of the layout and a call not taken at every separator,
// which made encoding the small maps of parameters and metadata a few
// percent slower than before there was an indented layout.
func (e *Encoder) appendValue(b []byte, v any, depth int) ([]byte, error) {
	if depth > maxDepth {
		return e.appendMarshal(b, v)
	}
	switch x := v.(type) {
	case nil:
		return append(b, "null"...), nil
	case string:
		return AppendString(b, x), nil
	case bool:
		return strconv.AppendBool(b, x), nil
	case float64:
		return AppendFloat(b, x, 64)
	case float32:
		return AppendFloat(b, float64(x), 32)
	case int:
		return strconv.AppendInt(b, int64(x), 10), nil
	case int64:
		return strconv.AppendInt(b, x, 10), nil
	case int32:
		return strconv.AppendInt(b, int64(x), 10), nil
	case int16:
		return strconv.AppendInt(b, int64(x), 10), nil
	case int8:
		return strconv.AppendInt(b, int64(x), 10), nil
	case uint:
		return strconv.AppendUint(b, uint64(x), 10), nil
	case uint64:
		return strconv.AppendUint(b, x, 10), nil
	case uint32:
		return strconv.AppendUint(b, uint64(x), 10), nil
	case uint16:
		return strconv.AppendUint(b, uint64(x), 10), nil
	case uint8:
		return strconv.AppendUint(b, uint64(x), 10), nil
	case uintptr:
		return strconv.AppendUint(b, uint64(x), 10), nil
	case json.Number:
		if x == "" {
			return append(b, '0'), nil
		}
		if !validNumber(string(x)) {
			return e.appendMarshal(b, v)
		}
		return append(b, x...), nil
	case []any:
		switch {
		case x == nil:
			return append(b, "null"...), nil
		case len(x) == 0:
			return append(b, '[', ']'), nil
		}
		var err error
		if e.indent == "" {
			b = append(b, '[')
			for i, v := range x {
				if i > 0 {
					b = append(b, ',')
				}
				if b, err = e.appendValue(b, v, depth+1); err != nil {
					return b, err
				}
			}
			return append(b, ']'), nil
		}
		b = e.indented(b, '[')
		for i, v := range x {
			if i > 0 {
				b = e.indented(b, ',')
			}
			if b, err = e.appendValue(b, v, depth+1); err != nil {
				return b, err
			}
		}
		return e.indented(b, ']'), nil
	case map[string]any:
		return e.appendMap(b, x, depth)
	}
	return e.appendMarshal(b, v)
}

// AppendMap appends m as json.Marshal writes it: null for a nil map,
// otherwise an object with its keys in byte order.
func AppendMap(b []byte, m map[string]any) ([]byte, error) {
	var e Encoder
	return e.appendMap(b, m, 0)
}

// AppendMap appends m as AppendMap does, laid out by e.
func (e *Encoder) AppendMap(b []byte, m map[string]any) ([]byte, error) { return e.appendMap(b, m, 0) }

func (e *Encoder) appendMap(b []byte, m map[string]any, depth int) ([]byte, error) {
	switch {
	case m == nil:
		return append(b, "null"...), nil
	case len(m) == 0:
		return append(b, '{', '}'), nil
	}
	compact := e.indent == ""
	var err error
	if len(m) == 1 {
		// Nothing to sort.
		for k, v := range m {
			if compact {
				b = append(b, '{')
				b = AppendString(b, k)
				b = append(b, ':')
			} else {
				b = e.indented(b, '{')
				b = AppendString(b, k)
				b = append(b, ':', ' ')
			}
			if b, err = e.appendValue(b, v, depth+1); err != nil {
				return b, err
			}
		}
		if compact {
			return append(b, '}'), nil
		}
		return e.indented(b, '}'), nil
	}
	// Parameter maps are small: their keys are sorted in an array on the
	// stack when they fit.
	var buf [16]string
	keys := buf[:0]
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, strings.Compare)
	if compact {
		b = append(b, '{')
		for i, k := range keys {
			if i > 0 {
				b = append(b, ',')
			}
			b = AppendString(b, k)
			b = append(b, ':')
			if b, err = e.appendValue(b, m[k], depth+1); err != nil {
				return b, err
			}
		}
		return append(b, '}'), nil
	}
	b = e.indented(b, '{')
	for i, k := range keys {
		if i > 0 {
			b = e.indented(b, ',')
		}
		b = AppendString(b, k)
		b = append(b, ':', ' ')
		if b, err = e.appendValue(b, m[k], depth+1); err != nil {
			return b, err
		}
	}
	return e.indented(b, '}'), nil
}

// appendMarshal appends what json.Marshal writes for v, laid out by e: the
// same bytes encoding/json writes for v inside a larger value.
func (e *Encoder) appendMarshal(b []byte, v any) ([]byte, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return b, err
	}
	return e.AppendRaw(b, raw), nil
}

// validNumber reports whether s is a JSON number, the check encoding/json
// makes before writing a json.Number.
func validNumber(s string) bool {
	if s != "" && s[0] == '-' {
		s = s[1:]
	}
	digits := func() int {
		n := 0
		for n < len(s) && '0' <= s[n] && s[n] <= '9' {
			n++
		}
		s = s[n:]
		return n
	}
	switch {
	case s == "":
		return false
	case s[0] == '0':
		s = s[1:]
	case '1' <= s[0] && s[0] <= '9':
		digits()
	default:
		return false
	}
	if len(s) >= 2 && s[0] == '.' && '0' <= s[1] && s[1] <= '9' {
		s = s[1:]
		digits()
	}
	if len(s) >= 2 && (s[0] == 'e' || s[0] == 'E') {
		s = s[1:]
		if s[0] == '+' || s[0] == '-' {
			s = s[1:]
		}
		if digits() == 0 {
			return false
		}
	}
	return s == ""
}
