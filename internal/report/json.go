package report

import (
	"encoding/json"
	"slices"
	"strconv"
	"strings"

	"github.com/weir-dev/weir/internal/jsonenc"
)

// AppendJSON appends r as json.Marshal(r) writes it, byte for byte. The
// summary of a run of a loop of a thousand iterations holds two thousand
// tasks, and encoding/json spends longer walking them by reflection, and
// then checking and copying what its reflection wrote, than weir spends
// building them; this encoder writes the fields directly.
//
// It is not a MarshalJSON method on purpose: the server embeds Run in
// larger objects, and encoding/json would promote a MarshalJSON to them
// and print the Run alone in their place.
//
// A value encoding/json refuses (a NaN parameter, a time RFC 3339 cannot
// express) is an error; the error is the one json.Marshal(r) returns.
func (r *Run) AppendJSON(b []byte) ([]byte, error) { return r.AppendJSONIndent(b, "") }

// AppendJSONIndent appends r as a json.Encoder with SetIndent("", indent)
// writes it, without the final newline: what `weir run -o json` prints.
// The indentation is written with the fields, in the same pass, rather
// than by indenting the compact encoding afterwards: that second pass
// took about as long as the encoding, and a second buffer. An empty
// indent is AppendJSON's compact encoding: both layouts come from the
// same encoder, so they cannot drift apart.
func (r *Run) AppendJSONIndent(b []byte, indent string) ([]byte, error) {
	e := jsonenc.NewEncoder(indent)
	out, err := r.appendJSON(&e, b)
	if err != nil {
		// Errors are rare enough to ask encoding/json for its own words.
		raw, err := json.Marshal(r)
		if err != nil {
			return nil, err
		}
		e = jsonenc.NewEncoder(indent)
		return e.AppendRaw(b, raw), nil
	}
	return out, nil
}

// The encoders below write each struct's fields in declaration order,
// under their json tags, leaving out what omitempty leaves out. The
// Encoder lays out the brackets, commas and keys; the separators are
// given in their compact form, which a compact Encoder copies as they
// are.

func (r *Run) appendJSON(e *jsonenc.Encoder, b []byte) ([]byte, error) {
	var err error
	b = e.Field(b, `{"run_id":`)
	b = jsonenc.AppendString(b, r.RunID)
	b = e.Field(b, `,"pipeline":`)
	b = jsonenc.AppendString(b, r.Pipeline)
	b = e.Field(b, `,"name":`)
	b = jsonenc.AppendString(b, r.Name)
	b = e.Field(b, `,"state":`)
	b = jsonenc.AppendString(b, string(r.State))
	b = e.Field(b, `,"error":`)
	b = jsonenc.AppendString(b, r.Error)
	b = e.Field(b, `,"created_at":`)
	if b, err = jsonenc.AppendTime(b, r.CreatedAt); err != nil {
		return nil, err
	}
	if r.FinishedAt != nil {
		b = e.Field(b, `,"finished_at":`)
		if b, err = jsonenc.AppendTime(b, *r.FinishedAt); err != nil {
			return nil, err
		}
	}
	b = e.Field(b, `,"duration_ms":`)
	b = strconv.AppendInt(b, r.DurationMS, 10)
	b = e.Field(b, `,"parameters":`)
	if b, err = e.AppendMap(b, r.Parameters); err != nil {
		return nil, err
	}
	b = e.Field(b, `,"pipeline_root":`)
	b = jsonenc.AppendString(b, r.Root)
	b = e.Field(b, `,"tasks":`)
	switch {
	case r.Tasks == nil:
		b = append(b, "null"...)
	case len(r.Tasks) == 0:
		b = append(b, '[', ']')
	default:
		b = e.Open(b, '[')
		for i := range r.Tasks {
			if i > 0 {
				b = e.Comma(b)
			}
			if b, err = r.Tasks[i].appendJSON(e, b); err != nil {
				return nil, err
			}
		}
		b = e.Close(b, ']')
	}
	return e.Close(b, '}'), nil
}

func (t *Task) appendJSON(e *jsonenc.Encoder, b []byte) ([]byte, error) {
	var err error
	b = e.Field(b, `{"name":`)
	b = jsonenc.AppendString(b, t.Name)
	b = e.Field(b, `,"kind":`)
	b = jsonenc.AppendString(b, string(t.Kind))
	b = e.Field(b, `,"state":`)
	b = jsonenc.AppendString(b, string(t.State))
	b = e.Field(b, `,"attempts":`)
	b = strconv.AppendInt(b, int64(t.Attempts), 10)
	if t.ExitCode != nil {
		b = e.Field(b, `,"exit_code":`)
		b = strconv.AppendInt(b, int64(*t.ExitCode), 10)
	}
	b = e.Field(b, `,"error":`)
	b = jsonenc.AppendString(b, t.Error)
	b = e.Field(b, `,"duration_ms":`)
	b = strconv.AppendInt(b, t.DurationMS, 10)
	b = e.Field(b, `,"inputs":`)
	if b, err = t.Inputs.appendJSON(e, b); err != nil {
		return nil, err
	}
	b = e.Field(b, `,"outputs":`)
	if b, err = t.Outputs.appendJSON(e, b); err != nil {
		return nil, err
	}
	if t.Log != "" {
		b = e.Field(b, `,"log":`)
		b = jsonenc.AppendString(b, t.Log)
	}
	b = e.Field(b, `,"cached_from":`)
	b = jsonenc.AppendString(b, t.CachedFrom)
	if len(t.Attempt) > 0 {
		b = e.Field(b, `,"attempt_history":`)
		b = e.Open(b, '[')
		for i := range t.Attempt {
			if i > 0 {
				b = e.Comma(b)
			}
			b = t.Attempt[i].appendJSON(e, b)
		}
		b = e.Close(b, ']')
	}
	return e.Close(b, '}'), nil
}

func (a *Attempt) appendJSON(e *jsonenc.Encoder, b []byte) []byte {
	b = e.Field(b, `{"number":`)
	b = strconv.AppendInt(b, int64(a.Number), 10)
	b = e.Field(b, `,"state":`)
	b = jsonenc.AppendString(b, string(a.State))
	if a.ExitCode != nil {
		b = e.Field(b, `,"exit_code":`)
		b = strconv.AppendInt(b, int64(*a.ExitCode), 10)
	}
	if a.Error != "" {
		b = e.Field(b, `,"error":`)
		b = jsonenc.AppendString(b, a.Error)
	}
	b = e.Field(b, `,"duration_ms":`)
	b = strconv.AppendInt(b, a.DurationMS, 10)
	b = e.Field(b, `,"log":`)
	b = jsonenc.AppendString(b, a.Log)
	return e.Close(b, '}')
}

func (side *IO) appendJSON(e *jsonenc.Encoder, b []byte) ([]byte, error) {
	var err error
	b = e.Field(b, `{"parameters":`)
	if b, err = e.AppendMap(b, side.Parameters); err != nil {
		return nil, err
	}
	b = e.Field(b, `,"artifacts":`)
	switch {
	case side.Artifacts == nil:
		b = append(b, "null"...)
		return e.Close(b, '}'), nil
	case len(side.Artifacts) == 0:
		b = append(b, '{', '}')
		return e.Close(b, '}'), nil
	}
	// Most tasks have no artifacts or one name: the names are sorted in
	// an array on the stack.
	var buf [8]string
	names := buf[:0]
	for name := range side.Artifacts {
		names = append(names, name)
	}
	slices.SortFunc(names, strings.Compare)
	b = e.Open(b, '{')
	for i, name := range names {
		if i > 0 {
			b = e.Comma(b)
		}
		b = jsonenc.AppendString(b, name)
		b = e.Colon(b)
		list := side.Artifacts[name]
		switch {
		case list == nil:
			b = append(b, "null"...)
			continue
		case len(list) == 0:
			b = append(b, '[', ']')
			continue
		}
		b = e.Open(b, '[')
		for j := range list {
			if j > 0 {
				b = e.Comma(b)
			}
			if b, err = list[j].appendJSON(e, b); err != nil {
				return nil, err
			}
		}
		b = e.Close(b, ']')
	}
	b = e.Close(b, '}')
	return e.Close(b, '}'), nil
}

func (a *Artifact) appendJSON(e *jsonenc.Encoder, b []byte) ([]byte, error) {
	var err error
	b = e.Field(b, `{"artifact_id":`)
	b = jsonenc.AppendString(b, a.ID)
	b = e.Field(b, `,"uri":`)
	b = jsonenc.AppendString(b, a.URI)
	b = e.Field(b, `,"path":`)
	b = jsonenc.AppendString(b, a.Path)
	b = e.Field(b, `,"type":`)
	b = jsonenc.AppendString(b, a.Type)
	b = e.Field(b, `,"metadata":`)
	if b, err = e.AppendMap(b, a.Metadata); err != nil {
		return nil, err
	}
	b = e.Field(b, `,"size":`)
	b = strconv.AppendInt(b, a.Size, 10)
	return e.Close(b, '}'), nil
}
