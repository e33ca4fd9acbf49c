package engine

import (
	"fmt"
	"sort"
	"strings"

	"github.com/weir-dev/weir/internal/run"
	"github.com/weir-dev/weir/internal/spec"
)

// resolvedInputs are a task's input values, ready for the executor.
type resolvedInputs struct {
	params map[string]any
	arts   map[string][]*run.Artifact
}

// scopeParam returns a parameter of a scope: the run's parameters for the
// root, the DAG task's resolved inputs otherwise. Compiler channels that the
// scope does not declare are looked up in the enclosing scopes.
func (s *state) scopeParam(scope, name string) (any, bool) {
	for {
		var vals map[string]any
		iteration := false
		if scope == "" {
			vals = s.run.Parameters
		} else if ts := s.tasks[scope]; ts != nil {
			vals, iteration = ts.tr.Inputs, ts.tr.Kind == run.KindIteration
		}
		if v, ok := vals[name]; ok {
			return v, true
		}
		// An iteration holds only its item; the loop holds the rest.
		if scope == "" || (!iteration && !spec.IsChannel(name)) {
			break
		}
		scope = scopeOf(scope)
	}
	if trimmed, ok := strings.CutPrefix(name, spec.ChannelPrefix); ok {
		return s.scopeParam(scope, trimmed)
	}
	return nil, false
}

// scopeArtifacts returns an input artifact of a scope. An iteration holds
// its item; other inputs of the loop body come from the loop itself.
func (s *state) scopeArtifacts(scope, name string) []*run.Artifact {
	for scope != "" {
		ts := s.tasks[scope]
		if ts == nil {
			return nil
		}
		if a := ts.inArts[name]; len(a) > 0 {
			return a
		}
		if ts.tr.Kind != run.KindIteration {
			return nil
		}
		scope = ts.scope
	}
	return nil
}

// resolveInputs computes the input parameters and artifacts of a task from
// its scope and its upstream tasks, then applies the component's defaults.
func (s *state) resolveInputs(ts *taskState) (*resolvedInputs, error) {
	res := &resolvedInputs{params: map[string]any{}, arts: map[string][]*run.Artifact{}}
	in := ts.task.Inputs
	if in == nil {
		in = &spec.TaskInputs{}
	}
	var decl *spec.Definitions
	if ts.comp != nil {
		decl = ts.comp.InputDefinitions
	}
	names := make([]string, 0, len(in.Parameters))
	for n := range in.Parameters {
		names = append(names, n)
	}
	sort.Strings(names)
	var constants []string
	for _, name := range names {
		ip := in.Parameters[name]
		switch {
		case ip.ComponentInputParameter != "":
			if v, ok := s.scopeParam(ts.scope, ip.ComponentInputParameter); ok {
				res.params[name] = v
			}
		case ip.TaskOutputParameter != nil:
			src := ip.TaskOutputParameter
			prod := s.tasks[childPath(ts.scope, src.ProducerTask)]
			if (prod == nil || !prod.tr.Phase.Done()) && ts.completesAll() {
				continue // the producer failed: the input's default applies
			}
			if prod == nil {
				return nil, fmt.Errorf("input %s: upstream task %s has not run", name, src.ProducerTask)
			}
			v, ok := prod.tr.Outputs[src.OutputParameterKey]
			if !ok {
				return nil, fmt.Errorf("input %s: task %s did not produce output %q", name, src.ProducerTask, src.OutputParameterKey)
			}
			res.params[name] = v
		case ip.RuntimeValue != nil:
			constants = append(constants, name)
		case ip.TaskFinalStatus != nil:
			res.params[name] = s.finalStatus(ts, ip.TaskFinalStatus.ProducerTask)
		}
	}
	// Constants may embed other inputs of the same task, so they come last.
	for _, name := range constants {
		c := in.Parameters[name].RuntimeValue.Constant
		if str, ok := c.(string); ok && strings.Contains(str, "{{$") {
			v, err := substitute(str, res.params)
			if err != nil {
				return nil, fmt.Errorf("input %s: %w", name, err)
			}
			c = v
		}
		res.params[name] = c
	}
	for _, name := range names {
		v, ok := res.params[name]
		if !ok {
			continue
		}
		if sel := in.Parameters[name].ParameterExpressionSelector; sel != "" {
			sv, err := celExprs.selectValue(sel, v)
			if err != nil {
				return nil, fmt.Errorf("input %s: %w", name, err)
			}
			v = sv
			res.params[name] = v
		}
		if decl == nil || decl.Parameters[name] == nil {
			continue
		}
		typ := decl.Parameters[name].ParameterType
		c, err := spec.Coerce(typ, v)
		if err != nil && typ == spec.String {
			// Loop items and selected fields may carry any JSON value into
			// an input the compiler typed as a string: pass its text.
			c, err = spec.FormatValue(v), nil
		}
		if err != nil {
			return nil, fmt.Errorf("input %s: %w", name, err)
		}
		res.params[name] = c
	}
	for name, ia := range in.Artifacts {
		switch {
		case ia.TaskOutputArtifact != nil:
			src := ia.TaskOutputArtifact
			prod := s.tasks[childPath(ts.scope, src.ProducerTask)]
			if (prod == nil || !prod.tr.Phase.Done()) && ts.completesAll() {
				continue
			}
			if prod != nil && prod.tr.Kind == run.KindLoop && prod.tr.Phase.Done() {
				res.arts[name] = prod.outArts[src.OutputArtifactKey] // a collected list may be empty
				continue
			}
			if prod == nil || len(prod.outArts[src.OutputArtifactKey]) == 0 {
				return nil, fmt.Errorf("input artifact %s: task %s did not produce %q", name, src.ProducerTask, src.OutputArtifactKey)
			}
			res.arts[name] = prod.outArts[src.OutputArtifactKey]
		case ia.ComponentInputArtifact != "":
			if a := s.scopeArtifacts(ts.scope, ia.ComponentInputArtifact); len(a) > 0 {
				res.arts[name] = a
			}
		}
	}
	if decl != nil {
		for name, ps := range decl.Parameters {
			if _, ok := res.params[name]; !ok && ps.DefaultValue != nil {
				res.params[name] = ps.DefaultValue
			}
		}
		for name, as := range decl.Artifacts {
			if _, bound := res.arts[name]; bound && as.IsArtifactList {
				continue
			}
			if it := ts.task.ArtifactIterator; it != nil && it.ItemInput == name {
				continue // bound per iteration
			}
			if len(res.arts[name]) == 0 && !as.IsOptional && !ts.completesAll() {
				return nil, fmt.Errorf("input artifact %s was not supplied", name)
			}
		}
	}
	return res, nil
}

// substitute replaces {{$.inputs.parameters['x']}} in a constant with the
// task's other input values.
func substitute(s string, params map[string]any) (string, error) {
	segs, err := spec.ParseTemplate(s)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	for _, seg := range segs {
		switch {
		case seg.Ref == nil:
			b.WriteString(seg.Text)
		case seg.Ref.Kind == spec.RefInputParameter:
			v, ok := params[seg.Ref.Name]
			if !ok {
				return "", fmt.Errorf("embedded input %q has no value", seg.Ref.Name)
			}
			b.WriteString(spec.FormatValue(v))
		default:
			return "", fmt.Errorf("placeholder %s cannot appear in a constant", seg.Ref.Kind)
		}
	}
	return b.String(), nil
}

// finalStatus is the TASK_FINAL_STATUS value describing a producer task.
// The state uses the names the KFP SDK documents for
// PipelineTaskFinalStatus.state: SUCCEEDED, FAILED or CANCELLED (and
// SKIPPED for a task that never ran).
func (s *state) finalStatus(ts *taskState, producer string) map[string]any {
	st := map[string]any{
		"pipelineJobResourceName": s.run.DisplayName,
		"pipelineTaskName":        producer,
		"state":                   "",
	}
	p := s.tasks[childPath(ts.scope, producer)]
	if p == nil {
		return st
	}
	switch p.tr.Phase {
	case run.Succeeded, run.Cached:
		st["state"] = "SUCCEEDED"
	case run.Canceled:
		st["state"] = "CANCELLED"
	default:
		st["state"] = strings.ToUpper(string(p.tr.Phase))
	}
	if p.tr.Error != "" {
		st["error"] = map[string]any{"code": int64(1), "message": p.tr.Error}
	}
	return st
}
