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
func (r *Run) AppendJSON(b []byte) ([]byte, error) {
	out, err := r.appendJSON(b)
	if err != nil {
		// Errors are rare enough to ask encoding/json for its own words.
		raw, err := json.Marshal(r)
		if err != nil {
			return nil, err
		}
		return append(b, raw...), nil
	}
	return out, nil
}

// The encoders below write each struct's fields in declaration order,
// under their json tags, leaving out what omitempty leaves out.

func (r *Run) appendJSON(b []byte) ([]byte, error) {
	var err error
	b = append(b, `{"run_id":`...)
	b = jsonenc.AppendString(b, r.RunID)
	b = append(b, `,"pipeline":`...)
	b = jsonenc.AppendString(b, r.Pipeline)
	b = append(b, `,"name":`...)
	b = jsonenc.AppendString(b, r.Name)
	b = append(b, `,"state":`...)
	b = jsonenc.AppendString(b, string(r.State))
	b = append(b, `,"error":`...)
	b = jsonenc.AppendString(b, r.Error)
	b = append(b, `,"created_at":`...)
	if b, err = jsonenc.AppendTime(b, r.CreatedAt); err != nil {
		return nil, err
	}
	if r.FinishedAt != nil {
		b = append(b, `,"finished_at":`...)
		if b, err = jsonenc.AppendTime(b, *r.FinishedAt); err != nil {
			return nil, err
		}
	}
	b = append(b, `,"duration_ms":`...)
	b = strconv.AppendInt(b, r.DurationMS, 10)
	b = append(b, `,"parameters":`...)
	if b, err = jsonenc.AppendMap(b, r.Parameters); err != nil {
		return nil, err
	}
	b = append(b, `,"pipeline_root":`...)
	b = jsonenc.AppendString(b, r.Root)
	b = append(b, `,"tasks":`...)
	if r.Tasks == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i := range r.Tasks {
			if i > 0 {
				b = append(b, ',')
			}
			if b, err = r.Tasks[i].appendJSON(b); err != nil {
				return nil, err
			}
		}
		b = append(b, ']')
	}
	return append(b, '}'), nil
}

func (t *Task) appendJSON(b []byte) ([]byte, error) {
	var err error
	b = append(b, `{"name":`...)
	b = jsonenc.AppendString(b, t.Name)
	b = append(b, `,"kind":`...)
	b = jsonenc.AppendString(b, string(t.Kind))
	b = append(b, `,"state":`...)
	b = jsonenc.AppendString(b, string(t.State))
	b = append(b, `,"attempts":`...)
	b = strconv.AppendInt(b, int64(t.Attempts), 10)
	if t.ExitCode != nil {
		b = append(b, `,"exit_code":`...)
		b = strconv.AppendInt(b, int64(*t.ExitCode), 10)
	}
	b = append(b, `,"error":`...)
	b = jsonenc.AppendString(b, t.Error)
	b = append(b, `,"duration_ms":`...)
	b = strconv.AppendInt(b, t.DurationMS, 10)
	b = append(b, `,"inputs":`...)
	if b, err = t.Inputs.appendJSON(b); err != nil {
		return nil, err
	}
	b = append(b, `,"outputs":`...)
	if b, err = t.Outputs.appendJSON(b); err != nil {
		return nil, err
	}
	if t.Log != "" {
		b = append(b, `,"log":`...)
		b = jsonenc.AppendString(b, t.Log)
	}
	b = append(b, `,"cached_from":`...)
	b = jsonenc.AppendString(b, t.CachedFrom)
	if len(t.Attempt) > 0 {
		b = append(b, `,"attempt_history":[`...)
		for i := range t.Attempt {
			if i > 0 {
				b = append(b, ',')
			}
			b = t.Attempt[i].appendJSON(b)
		}
		b = append(b, ']')
	}
	return append(b, '}'), nil
}

func (a *Attempt) appendJSON(b []byte) []byte {
	b = append(b, `{"number":`...)
	b = strconv.AppendInt(b, int64(a.Number), 10)
	b = append(b, `,"state":`...)
	b = jsonenc.AppendString(b, string(a.State))
	if a.ExitCode != nil {
		b = append(b, `,"exit_code":`...)
		b = strconv.AppendInt(b, int64(*a.ExitCode), 10)
	}
	if a.Error != "" {
		b = append(b, `,"error":`...)
		b = jsonenc.AppendString(b, a.Error)
	}
	b = append(b, `,"duration_ms":`...)
	b = strconv.AppendInt(b, a.DurationMS, 10)
	b = append(b, `,"log":`...)
	b = jsonenc.AppendString(b, a.Log)
	return append(b, '}')
}

func (side *IO) appendJSON(b []byte) ([]byte, error) {
	var err error
	b = append(b, `{"parameters":`...)
	if b, err = jsonenc.AppendMap(b, side.Parameters); err != nil {
		return nil, err
	}
	b = append(b, `,"artifacts":`...)
	if side.Artifacts == nil {
		b = append(b, "null"...)
		return append(b, '}'), nil
	}
	// Most tasks have no artifacts or one name: the names are sorted in
	// an array on the stack.
	var buf [8]string
	names := buf[:0]
	for name := range side.Artifacts {
		names = append(names, name)
	}
	slices.SortFunc(names, strings.Compare)
	b = append(b, '{')
	for i, name := range names {
		if i > 0 {
			b = append(b, ',')
		}
		b = jsonenc.AppendString(b, name)
		b = append(b, ':')
		list := side.Artifacts[name]
		if list == nil {
			b = append(b, "null"...)
			continue
		}
		b = append(b, '[')
		for j := range list {
			if j > 0 {
				b = append(b, ',')
			}
			if b, err = list[j].appendJSON(b); err != nil {
				return nil, err
			}
		}
		b = append(b, ']')
	}
	return append(b, '}', '}'), nil
}

func (a *Artifact) appendJSON(b []byte) ([]byte, error) {
	var err error
	b = append(b, `{"artifact_id":`...)
	b = jsonenc.AppendString(b, a.ID)
	b = append(b, `,"uri":`...)
	b = jsonenc.AppendString(b, a.URI)
	b = append(b, `,"path":`...)
	b = jsonenc.AppendString(b, a.Path)
	b = append(b, `,"type":`...)
	b = jsonenc.AppendString(b, a.Type)
	b = append(b, `,"metadata":`...)
	if b, err = jsonenc.AppendMap(b, a.Metadata); err != nil {
		return nil, err
	}
	b = append(b, `,"size":`...)
	b = strconv.AppendInt(b, a.Size, 10)
	return append(b, '}'), nil
}
