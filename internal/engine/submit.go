package engine

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/weir-dev/weir/internal/run"
	"github.com/weir-dev/weir/internal/spec"
)

// Submission describes a run to create.
type Submission struct {
	Spec     []byte // the pipeline document as given
	SpecFile string // names the document in errors
	// Params are the caller's parameter values. Raw strings (from a command
	// line) are parsed by declared type; other values are coerced.
	Params       map[string]any
	PipelineRoot string
	DisplayName  string
	Options      run.Options
}

// ParamError is an invalid pipeline parameter.
type ParamError struct {
	Name string
	Msg  string
}

func (e *ParamError) Error() string { return fmt.Sprintf("parameter %s: %s", e.Name, e.Msg) }

// Prepare validates a submission and returns the run to store: the spec is
// decoded and validated, parameters are checked against the pipeline's
// inputs (unknown names, types, required values) and defaults applied.
func Prepare(sub Submission) (*run.Run, *spec.Pipeline, []spec.Warning, error) {
	p, warns, err := spec.Decode(sub.SpecFile, sub.Spec)
	if err != nil {
		return nil, nil, warns, err
	}
	if err := checkExpressions(sub.SpecFile, p); err != nil {
		return nil, nil, warns, err
	}
	params, err := BindParameters(p, sub.Params)
	if err != nil {
		return nil, nil, warns, err
	}
	now := time.Now().UTC()
	name := sub.DisplayName
	if name == "" {
		name = p.PipelineInfo.Name + "-" + now.Format("20060102-150405")
	}
	root := sub.PipelineRoot
	if root == "" {
		root = p.DefaultPipelineRoot
	}
	r := &run.Run{
		ID: newID(), PipelineName: p.PipelineInfo.Name, DisplayName: name,
		Spec: sub.Spec, SpecFile: sub.SpecFile, Parameters: params, PipelineRoot: root,
		Options: sub.Options, Phase: run.Pending, CreatedAt: now,
	}
	return r, p, warns, nil
}

// BindParameters checks values against the root inputs and applies
// defaults. Every problem is reported, in name order.
func BindParameters(p *spec.Pipeline, given map[string]any) (map[string]any, error) {
	var decl map[string]*spec.ParameterSpec
	if p.Root.InputDefinitions != nil {
		decl = p.Root.InputDefinitions.Parameters
	}
	out := map[string]any{}
	var problems []string
	for _, name := range sortedNames(given) {
		ps := decl[name]
		if ps == nil {
			known := sortedNames(decl)
			problems = append(problems, (&ParamError{Name: name, Msg: fmt.Sprintf("the pipeline has no such input (it takes: %s)", strings.Join(known, ", "))}).Error())
			continue
		}
		var v any
		var err error
		if s, ok := given[name].(string); ok {
			v, err = spec.ParseCLI(ps.ParameterType, s)
		} else {
			v, err = spec.Coerce(ps.ParameterType, given[name])
		}
		if err != nil {
			problems = append(problems, (&ParamError{Name: name, Msg: err.Error()}).Error())
			continue
		}
		out[name] = v
	}
	for _, name := range sortedNames(decl) {
		if _, ok := out[name]; ok {
			continue
		}
		ps := decl[name]
		switch {
		case ps.DefaultValue != nil:
			out[name] = ps.DefaultValue
		case !ps.IsOptional:
			problems = append(problems, (&ParamError{Name: name, Msg: fmt.Sprintf("required %s input has no value (pass -p %s=VALUE)", ps.ParameterType, name)}).Error())
		}
	}
	if len(problems) > 0 {
		sort.Strings(problems)
		return nil, &InvalidParams{Problems: problems}
	}
	return out, nil
}

// InvalidParams lists every parameter problem of a submission.
type InvalidParams struct{ Problems []string }

func (e *InvalidParams) Error() string { return strings.Join(e.Problems, "; ") }

// Submit validates a submission and stores it as a pending run.
func (e *Engine) Submit(ctx context.Context, sub Submission) (*run.Run, []spec.Warning, error) {
	r, _, warns, err := Prepare(sub)
	if err != nil {
		return nil, warns, err
	}
	if err := e.store.Apply(ctx, &run.Changes{NewRuns: []*run.Run{r}}); err != nil {
		return nil, warns, fmt.Errorf("store run: %w", err)
	}
	return r, warns, nil
}
