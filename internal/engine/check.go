package engine

import (
	"sort"

	"github.com/weir-dev/weir/internal/spec"
)

// checkExpressions compiles every CEL expression of a pipeline (trigger
// conditions and parameter expression selectors) so that a typo is reported
// before the run starts, with the field path, rather than when the task is
// reached.
func checkExpressions(file string, p *spec.Pipeline) error {
	var errs []*spec.FieldError
	check := func(path string, dag *spec.DAG) {
		if dag == nil {
			return
		}
		names := make([]string, 0, len(dag.Tasks))
		for n := range dag.Tasks {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			t := dag.Tasks[n]
			tp := path + ".dag.tasks." + n
			if t.TriggerPolicy != nil && t.TriggerPolicy.Condition != "" {
				if _, err := celExprs.program("cond", t.TriggerPolicy.Condition); err != nil {
					errs = append(errs, &spec.FieldError{File: file, Path: tp + ".triggerPolicy.condition", Msg: err.Error()})
				}
			}
			if t.Inputs == nil {
				continue
			}
			params := make([]string, 0, len(t.Inputs.Parameters))
			for k := range t.Inputs.Parameters {
				params = append(params, k)
			}
			sort.Strings(params)
			for _, k := range params {
				if sel := t.Inputs.Parameters[k].ParameterExpressionSelector; sel != "" {
					if _, err := celExprs.program("sel", sel); err != nil {
						errs = append(errs, &spec.FieldError{File: file, Path: tp + ".inputs.parameters." + k + ".parameterExpressionSelector", Msg: err.Error()})
					}
				}
			}
		}
	}
	check("root", p.Root.DAG)
	comps := make([]string, 0, len(p.Components))
	for n := range p.Components {
		comps = append(comps, n)
	}
	sort.Strings(comps)
	for _, n := range comps {
		check("components."+n, p.Components[n].DAG)
	}
	if len(errs) > 0 {
		return &spec.ValidationError{Errors: errs}
	}
	return nil
}
