package launch

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"github.com/weir-dev/weir/internal/run"
	"github.com/weir-dev/weir/internal/spec"
)

// Result is what a finished step produced.
type Result struct {
	Params    map[string]any
	Artifacts map[string][]Artifact
}

type executorOutput struct {
	ParameterValues map[string]json.RawMessage `json:"parameterValues"`
	Artifacts       map[string]struct {
		Artifacts []struct {
			Name     string         `json:"name"`
			URI      string         `json:"uri"`
			Metadata map[string]any `json:"metadata"`
		} `json:"artifacts"`
	} `json:"artifacts"`
}

// Collect reads the executor output file and the output parameter files
// of a finished step. Parameters are parsed by their declared type, so an
// integer stays an integer; a declared output that the step did not write
// is an error naming it.
func (p *Prepared) Collect() (*Result, error) {
	res := &Result{Params: map[string]any{}, Artifacts: map[string][]Artifact{}}
	var out executorOutput
	data, err := os.ReadFile(p.OutputFile)
	switch {
	case err == nil:
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.UseNumber()
		if err := dec.Decode(&out); err != nil {
			return nil, fmt.Errorf("read executor output %s: %w", p.OutputFile, err)
		}
	case !errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("read executor output: %w", err)
	}
	if p.outDefs == nil {
		return res, nil
	}
	for _, name := range sortedNames(p.outDefs.Parameters) {
		def := p.outDefs.Parameters[name]
		var raw any
		found := false
		if rv, ok := out.ParameterValues[name]; ok {
			vals, err := run.DecodeValues([]byte(`{"v":` + string(rv) + `}`))
			if err != nil {
				return nil, fmt.Errorf("output parameter %q: %w", name, err)
			}
			raw, found = vals["v"], true
		} else if b, err := os.ReadFile(p.ParamFiles[name]); err == nil {
			raw, found = fileValue(def.ParameterType, string(b)), true
		} else if !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("output parameter %q: %w", name, err)
		}
		if !found {
			if def.IsOptional {
				continue
			}
			return nil, fmt.Errorf("output parameter %q was not produced (neither in the executor output nor in %s)", name, p.ParamFiles[name])
		}
		v, err := spec.Coerce(def.ParameterType, raw)
		if err != nil {
			return nil, fmt.Errorf("output parameter %q: %w", name, err)
		}
		res.Params[name] = v
	}
	for _, name := range sortedNames(p.outDefs.Artifacts) {
		a := p.Outputs[name]
		if got, ok := out.Artifacts[name]; ok && len(got.Artifacts) > 0 {
			g := got.Artifacts[0]
			if g.URI != "" {
				a.URI = g.URI
			}
			if g.Metadata != nil {
				a.Metadata = spec.Normalize(g.Metadata).(map[string]any)
			}
		}
		res.Artifacts[name] = []Artifact{a}
	}
	return res, nil
}

// fileValue interprets the text of an output parameter file. Strings are
// taken verbatim; other types are parsed from their text (booleans also in
// Python's spelling).
func fileValue(t spec.ParameterType, s string) any {
	switch t {
	case spec.String:
		return s
	case spec.Boolean:
		switch strings.TrimSpace(s) {
		case "True":
			return true
		case "False":
			return false
		}
	}
	return strings.TrimSpace(s)
}
