package spec

import (
	"fmt"
	"sort"
	"strings"
)

// ChannelPrefix marks task inputs that the compiler injects to carry values
// into constants, conditions and sub-DAGs (e.g. pipelinechannel--t-Output).
const ChannelPrefix = "pipelinechannel--"

// Validate checks a decoded pipeline before anything runs: references to
// components, executors, tasks, inputs and outputs; cycles; type agreement
// between producers and consumers; required inputs; values that must parse
// as their declared type; placeholders. Every problem names its field path.
func Validate(file string, p *Pipeline) error {
	v := &validator{p: p, e: &errs{file: file}, seen: map[string]bool{}}
	v.pipeline()
	return v.e.err()
}

type validator struct {
	p    *Pipeline
	e    *errs
	seen map[string]bool // components already validated
}

func (v *validator) pipeline() {
	p := v.p
	if p.SchemaVersion == "" {
		v.e.add("schemaVersion", "missing: is this a compiled pipeline (kfp compiler output)?")
	} else if !strings.HasPrefix(p.SchemaVersion, "2.") {
		v.e.add("schemaVersion", "unsupported schema version %q, want 2.x", p.SchemaVersion)
	}
	if p.PipelineInfo.Name == "" {
		v.e.add("pipelineInfo.name", "missing pipeline name")
	}
	if p.Root.DAG == nil {
		v.e.add("root.dag", "missing: the root component must be a DAG")
	}
	v.definitions("root.inputDefinitions", p.Root.InputDefinitions)
	names := sortedKeys(p.Components)
	for _, name := range names {
		c := p.Components[name]
		path := join("components", name)
		if c == nil {
			v.e.add(path, "empty component")
			continue
		}
		v.definitions(path+".inputDefinitions", c.InputDefinitions)
		v.definitions(path+".outputDefinitions", c.OutputDefinitions)
		switch {
		case c.DAG != nil && c.ExecutorLabel != "":
			v.e.add(path, "a component has either a dag or an executorLabel, not both")
		case c.DAG == nil && c.ExecutorLabel == "":
			v.e.add(path, "a component needs a dag or an executorLabel")
		case c.ExecutorLabel != "":
			ex := p.DeploymentSpec.Executors[c.ExecutorLabel]
			if ex == nil {
				v.e.add(path+".executorLabel", "unknown executor %q (not in deploymentSpec.executors)", c.ExecutorLabel)
			} else {
				v.executor(join("deploymentSpec.executors", c.ExecutorLabel), ex, c)
			}
		}
	}
	v.componentCycles()
	if p.Root.DAG != nil {
		v.dag("root", &p.Root)
	}
	for _, name := range names {
		if c := p.Components[name]; c != nil && c.DAG != nil {
			v.dag(join("components", name), c)
		}
	}
}

func (v *validator) definitions(path string, d *Definitions) {
	if d == nil {
		return
	}
	for _, name := range sortedKeys(d.Parameters) {
		ps := d.Parameters[name]
		pp := join(path+".parameters", name)
		if ps == nil {
			v.e.add(pp, "empty parameter definition")
			continue
		}
		if !ps.ParameterType.Known() {
			v.e.add(pp+".parameterType", "unknown parameter type %q", ps.ParameterType)
			continue
		}
		if ps.DefaultValue != nil {
			c, err := Coerce(ps.ParameterType, ps.DefaultValue)
			if err != nil {
				v.e.add(pp+".defaultValue", "%v", err)
			} else {
				ps.DefaultValue = c
			}
		}
	}
	for _, name := range sortedKeys(d.Artifacts) {
		if d.Artifacts[name] == nil {
			v.e.add(join(path+".artifacts", name), "empty artifact definition")
		}
	}
}

func (v *validator) executor(path string, ex *Executor, c *Component) {
	switch {
	case ex.Container != nil && ex.Importer != nil:
		v.e.add(path, "an executor has either a container or an importer, not both")
	case ex.Container != nil:
		ct := ex.Container
		if len(ct.Command) == 0 && len(ct.Args) == 0 {
			v.e.add(path+".container", "neither command nor args: nothing to run")
		}
		for field, list := range map[string][]string{"command": ct.Command, "args": ct.Args} {
			for i, s := range list {
				ap := fmt.Sprintf("%s.container.%s[%d]", path, field, i)
				a, err := ParseArg(s)
				if err != nil {
					v.e.add(ap, "%v", err)
					continue
				}
				v.argRefs(ap, a, c)
			}
		}
		for i, env := range ct.Env {
			if env.Name == "" {
				v.e.add(fmt.Sprintf("%s.container.env[%d].name", path, i), "missing environment variable name")
			}
		}
	case ex.Importer != nil:
		im := ex.Importer
		if im.ArtifactURI.RuntimeParameter == "" && im.ArtifactURI.Constant == nil {
			v.e.add(path+".importer.artifactUri", "needs a constant or a runtimeParameter")
		}
		if im.ArtifactURI.RuntimeParameter != "" && !hasParam(c.InputDefinitions, im.ArtifactURI.RuntimeParameter) {
			v.e.add(path+".importer.artifactUri.runtimeParameter", "unknown input parameter %q", im.ArtifactURI.RuntimeParameter)
		}
	default:
		v.e.add(path, "an executor needs a container or an importer")
	}
}

// argRefs checks that every placeholder in a container argument refers to
// something the component declares.
func (v *validator) argRefs(path string, a Arg, c *Component) {
	for _, r := range a.Refs() {
		switch r.Kind {
		case RefInputParameter:
			if !hasParam(c.InputDefinitions, r.Name) {
				v.e.add(path, "placeholder refers to unknown input parameter %q", r.Name)
			}
		case RefInputArtifact:
			if !hasArtifact(c.InputDefinitions, r.Name) {
				v.e.add(path, "placeholder refers to unknown input artifact %q", r.Name)
			}
		case RefOutputParameter:
			if !hasParam(c.OutputDefinitions, r.Name) {
				v.e.add(path, "placeholder refers to unknown output parameter %q", r.Name)
			}
		case RefOutputArtifact:
			if !hasArtifact(c.OutputDefinitions, r.Name) {
				v.e.add(path, "placeholder refers to unknown output artifact %q", r.Name)
			}
		}
	}
	if ip := a.IfPresent; ip != nil && !hasParam(c.InputDefinitions, ip.InputName) && !hasArtifact(c.InputDefinitions, ip.InputName) {
		v.e.add(path, "IfPresent refers to unknown input %q", ip.InputName)
	}
}

// dag checks the tasks of one DAG component.
func (v *validator) dag(path string, c *Component) {
	if v.seen[path] {
		return
	}
	v.seen[path] = true
	tasks := c.DAG.Tasks
	if len(tasks) == 0 {
		v.e.add(path+".dag.tasks", "a DAG needs at least one task")
	}
	for _, name := range sortedKeys(tasks) {
		t := tasks[name]
		tp := join(path+".dag.tasks", name)
		if t == nil {
			v.e.add(tp, "empty task")
			continue
		}
		v.task(tp, name, t, c)
	}
	v.taskCycles(path+".dag.tasks", tasks)
	if c.DAG.Outputs != nil {
		v.dagOutputs(path+".dag.outputs", c)
	}
}

func (v *validator) task(tp, name string, t *Task, parent *Component) {
	tasks := parent.DAG.Tasks
	comp := v.p.Components[t.ComponentRef.Name]
	if t.ComponentRef.Name == "" {
		v.e.add(tp+".componentRef.name", "missing component reference")
	} else if comp == nil {
		v.e.add(tp+".componentRef.name", "unknown component %q (not in components)", t.ComponentRef.Name)
	}
	for i, d := range t.DependentTasks {
		if tasks[d] == nil {
			v.e.add(fmt.Sprintf("%s.dependentTasks[%d]", tp, i), "unknown task %q", d)
		} else if d == name {
			v.e.add(fmt.Sprintf("%s.dependentTasks[%d]", tp, i), "a task cannot depend on itself")
		}
	}
	in := t.Inputs
	if in == nil {
		in = &TaskInputs{}
	}
	iterInputs := map[string]bool{}
	if it := t.ParameterIterator; it != nil {
		iterInputs[it.ItemInput] = true
		if it.Items.InputParameter != "" && in.Parameters[it.Items.InputParameter] == nil {
			v.e.add(tp+".parameterIterator.items.inputParameter", "unknown task input %q", it.Items.InputParameter)
		}
		if it.Items.Raw != "" {
			if _, err := Coerce(List, it.Items.Raw); err != nil {
				v.e.add(tp+".parameterIterator.items.raw", "%v", err)
			}
		}
	}
	if it := t.ArtifactIterator; it != nil {
		iterInputs[it.ItemInput] = true
		if in.Artifacts[it.Items.InputArtifact] == nil {
			v.e.add(tp+".artifactIterator.items.inputArtifact", "unknown task input %q", it.Items.InputArtifact)
		}
	}
	var compIn *Definitions
	if comp != nil {
		compIn = comp.InputDefinitions
	}
	for _, pname := range sortedKeys(in.Parameters) {
		v.inputParameter(join(tp+".inputs.parameters", pname), pname, in.Parameters[pname], t, parent, compIn)
	}
	for _, aname := range sortedKeys(in.Artifacts) {
		v.inputArtifact(join(tp+".inputs.artifacts", aname), aname, in.Artifacts[aname], parent, compIn)
	}
	if compIn != nil {
		for _, pname := range sortedKeys(compIn.Parameters) {
			ps := compIn.Parameters[pname]
			if ps != nil && !ps.IsOptional && ps.DefaultValue == nil && in.Parameters[pname] == nil && !iterInputs[pname] {
				v.e.add(join(tp+".inputs.parameters", pname), "required input parameter of %s is not set", t.ComponentRef.Name)
			}
		}
		for _, aname := range sortedKeys(compIn.Artifacts) {
			as := compIn.Artifacts[aname]
			if as != nil && !as.IsOptional && in.Artifacts[aname] == nil && !iterInputs[aname] {
				v.e.add(join(tp+".inputs.artifacts", aname), "required input artifact of %s is not set", t.ComponentRef.Name)
			}
		}
	}
	if rp := t.RetryPolicy; rp != nil && rp.MaxRetryCount < 0 {
		v.e.add(tp+".retryPolicy.maxRetryCount", "must not be negative")
	}
	if ip := t.IteratorPolicy; ip != nil && ip.ParallelismLimit < 0 {
		v.e.add(tp+".iteratorPolicy.parallelismLimit", "must not be negative")
	}
}

func (v *validator) inputParameter(pp, pname string, ip *InputParameter, t *Task, parent *Component, compIn *Definitions) {
	if ip == nil {
		v.e.add(pp, "empty input")
		return
	}
	var want ParameterType
	declared := false
	if compIn != nil && compIn.Parameters[pname] != nil {
		want, declared = compIn.Parameters[pname].ParameterType, true
	} else if compIn != nil && !strings.HasPrefix(pname, ChannelPrefix) {
		v.e.add(pp, "component %s has no input parameter %q", t.ComponentRef.Name, pname)
	}
	sources := 0
	var got ParameterType
	checkType := ip.ParameterExpressionSelector == ""
	if ip.ComponentInputParameter != "" {
		sources++
		ps := paramDef(parent.InputDefinitions, ip.ComponentInputParameter)
		if ps == nil && !IsChannel(ip.ComponentInputParameter) {
			v.e.add(pp+".componentInputParameter", "the enclosing DAG has no input parameter %q", ip.ComponentInputParameter)
		} else if ps != nil {
			got = ps.ParameterType
		}
		if strings.Contains(ip.ComponentInputParameter, "loop-item") {
			checkType = false
		}
	}
	if top := ip.TaskOutputParameter; top != nil {
		sources++
		prod := parent.DAG.Tasks[top.ProducerTask]
		tp := pp + ".taskOutputParameter"
		if prod == nil {
			v.e.add(tp+".producerTask", "unknown task %q", top.ProducerTask)
		} else if pc := v.p.Components[prod.ComponentRef.Name]; pc != nil {
			ps := paramDef(pc.OutputDefinitions, top.OutputParameterKey)
			if ps == nil {
				v.e.add(tp+".outputParameterKey", "task %s has no output parameter %q", top.ProducerTask, top.OutputParameterKey)
			} else {
				got = ps.ParameterType
			}
		}
	}
	if rv := ip.RuntimeValue; rv != nil {
		sources++
		if s, ok := rv.Constant.(string); ok && strings.Contains(s, "{{$") {
			segs, err := ParseTemplate(s)
			if err != nil {
				v.e.add(pp+".runtimeValue.constant", "%v", err)
			}
			for _, seg := range segs {
				if seg.Ref == nil || seg.Ref.Kind == RefRuntime {
					continue
				}
				if seg.Ref.Kind != RefInputParameter {
					v.e.add(pp+".runtimeValue.constant", "a constant may only embed input parameters and runtime placeholders")
				} else if t.Inputs.Parameters[seg.Ref.Name] == nil {
					v.e.add(pp+".runtimeValue.constant", "embeds unknown task input %q", seg.Ref.Name)
				}
			}
			got = String
		} else if declared && rv.Constant != nil {
			c, err := Coerce(want, rv.Constant)
			if err != nil {
				v.e.add(pp+".runtimeValue.constant", "%v", err)
			} else {
				rv.Constant = c
			}
		}
	}
	if tfs := ip.TaskFinalStatus; tfs != nil {
		sources++
		if parent.DAG.Tasks[tfs.ProducerTask] == nil {
			v.e.add(pp+".taskFinalStatus.producerTask", "unknown task %q", tfs.ProducerTask)
		}
		got = TaskFinalStatusType
	}
	if sources != 1 {
		v.e.add(pp, "needs exactly one source (componentInputParameter, taskOutputParameter, runtimeValue or taskFinalStatus), found %d", sources)
		return
	}
	if declared && checkType && got != "" && !paramCompatible(got, want) {
		v.e.add(pp, "type mismatch: %s given where %s expects %s", got, t.ComponentRef.Name, want)
	}
}

func (v *validator) inputArtifact(ap, aname string, ia *InputArtifact, parent *Component, compIn *Definitions) {
	if ia == nil {
		v.e.add(ap, "empty input")
		return
	}
	var want *ArtifactSpec
	if compIn != nil {
		want = compIn.Artifacts[aname]
		if want == nil && !strings.HasPrefix(aname, ChannelPrefix) {
			v.e.add(ap, "component has no input artifact %q", aname)
		}
	}
	var got *ArtifactSpec
	switch {
	case ia.TaskOutputArtifact != nil && ia.ComponentInputArtifact != "":
		v.e.add(ap, "needs exactly one source, found both taskOutputArtifact and componentInputArtifact")
		return
	case ia.TaskOutputArtifact != nil:
		toa := ia.TaskOutputArtifact
		prod := parent.DAG.Tasks[toa.ProducerTask]
		if prod == nil {
			v.e.add(ap+".taskOutputArtifact.producerTask", "unknown task %q", toa.ProducerTask)
			return
		}
		if pc := v.p.Components[prod.ComponentRef.Name]; pc != nil {
			got = artifactDef(pc.OutputDefinitions, toa.OutputArtifactKey)
			if got == nil {
				v.e.add(ap+".taskOutputArtifact.outputArtifactKey", "task %s has no output artifact %q", toa.ProducerTask, toa.OutputArtifactKey)
				return
			}
		}
	case ia.ComponentInputArtifact != "":
		got = artifactDef(parent.InputDefinitions, ia.ComponentInputArtifact)
		if got == nil {
			v.e.add(ap+".componentInputArtifact", "the enclosing DAG has no input artifact %q", ia.ComponentInputArtifact)
			return
		}
	default:
		v.e.add(ap, "needs a taskOutputArtifact or a componentInputArtifact")
		return
	}
	if want != nil && got != nil && !artifactCompatible(got.ArtifactType.SchemaTitle, want.ArtifactType.SchemaTitle) {
		v.e.add(ap, "type mismatch: %s given where %s is expected", got.ArtifactType.SchemaTitle, want.ArtifactType.SchemaTitle)
	}
}

func (v *validator) dagOutputs(path string, c *Component) {
	tasks := c.DAG.Tasks
	for _, name := range sortedKeys(c.DAG.Outputs.Parameters) {
		op := c.DAG.Outputs.Parameters[name]
		pp := join(path+".parameters", name)
		if op == nil {
			continue
		}
		var sels []*ParameterSelector
		if op.ValueFromParameter != nil {
			sels = append(sels, op.ValueFromParameter)
		}
		if op.ValueFromOneof != nil {
			sels = append(sels, op.ValueFromOneof.ParameterSelectors...)
		}
		if len(sels) == 0 {
			v.e.add(pp, "needs valueFromParameter or valueFromOneof")
		}
		for _, s := range sels {
			t := tasks[s.ProducerSubtask]
			if t == nil {
				v.e.add(pp, "unknown producer subtask %q", s.ProducerSubtask)
			} else if pc := v.p.Components[t.ComponentRef.Name]; pc != nil && paramDef(pc.OutputDefinitions, s.OutputParameterKey) == nil {
				v.e.add(pp, "task %s has no output parameter %q", s.ProducerSubtask, s.OutputParameterKey)
			}
		}
	}
	for _, name := range sortedKeys(c.DAG.Outputs.Artifacts) {
		oa := c.DAG.Outputs.Artifacts[name]
		ap := join(path+".artifacts", name)
		if oa == nil || len(oa.ArtifactSelectors) == 0 {
			v.e.add(ap, "needs artifactSelectors")
			continue
		}
		for _, s := range oa.ArtifactSelectors {
			t := tasks[s.ProducerSubtask]
			if t == nil {
				v.e.add(ap, "unknown producer subtask %q", s.ProducerSubtask)
			} else if pc := v.p.Components[t.ComponentRef.Name]; pc != nil && artifactDef(pc.OutputDefinitions, s.OutputArtifactKey) == nil {
				v.e.add(ap, "task %s has no output artifact %q", s.ProducerSubtask, s.OutputArtifactKey)
			}
		}
	}
}

// Upstream returns the sibling tasks t waits for: its dependentTasks and
// every task whose outputs or final status it consumes, sorted.
func Upstream(t *Task) []string {
	set := map[string]bool{}
	for _, d := range t.DependentTasks {
		set[d] = true
	}
	if t.Inputs != nil {
		for _, ip := range t.Inputs.Parameters {
			if ip == nil {
				continue
			}
			if ip.TaskOutputParameter != nil {
				set[ip.TaskOutputParameter.ProducerTask] = true
			}
			if ip.TaskFinalStatus != nil {
				set[ip.TaskFinalStatus.ProducerTask] = true
			}
		}
		for _, ia := range t.Inputs.Artifacts {
			if ia != nil && ia.TaskOutputArtifact != nil {
				set[ia.TaskOutputArtifact.ProducerTask] = true
			}
		}
	}
	out := make([]string, 0, len(set))
	for k := range set {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// taskCycles reports a dependency cycle among the tasks of one DAG.
func (v *validator) taskCycles(path string, tasks map[string]*Task) {
	const (
		white = iota
		grey
		black
	)
	color := map[string]int{}
	var stack []string
	var visit func(n string) bool
	visit = func(n string) bool {
		color[n] = grey
		stack = append(stack, n)
		t := tasks[n]
		if t != nil {
			for _, u := range Upstream(t) {
				if tasks[u] == nil {
					continue
				}
				switch color[u] {
				case grey:
					i := len(stack) - 1
					for stack[i] != u {
						i--
					}
					cyc := append(append([]string{}, stack[i:]...), u)
					v.e.add(path, "dependency cycle: %s", strings.Join(cyc, " -> "))
					return true
				case white:
					if visit(u) {
						return true
					}
				}
			}
		}
		stack = stack[:len(stack)-1]
		color[n] = black
		return false
	}
	for _, n := range sortedKeys(tasks) {
		if color[n] == white && visit(n) {
			return
		}
	}
}

// componentCycles reports a DAG component that (transitively) contains
// itself, which would nest forever.
func (v *validator) componentCycles() {
	state := map[string]int{}
	var visit func(name string, trail []string) bool
	visit = func(name string, trail []string) bool {
		c := v.p.Components[name]
		if c == nil || c.DAG == nil {
			return false
		}
		if state[name] == 1 {
			v.e.add(join("components", name), "component contains itself: %s", strings.Join(append(trail, name), " -> "))
			return true
		}
		if state[name] == 2 {
			return false
		}
		state[name] = 1
		for _, tn := range sortedKeys(c.DAG.Tasks) {
			if t := c.DAG.Tasks[tn]; t != nil && visit(t.ComponentRef.Name, append(trail, name)) {
				return true
			}
		}
		state[name] = 2
		return false
	}
	for _, name := range sortedKeys(v.p.Components) {
		if visit(name, nil) {
			return
		}
	}
}

// IsChannel reports whether name is a compiler-generated channel. The kfp
// compiler sometimes binds such a channel to a name the enclosing DAG does not
// declare (loops inside exit handlers); the engine then resolves it from the
// enclosing scopes at run time instead of rejecting the pipeline.
func IsChannel(name string) bool {
	return strings.HasPrefix(name, ChannelPrefix) || strings.HasSuffix(name, "-loop-item")
}

func paramCompatible(got, want ParameterType) bool {
	return got == want || (got == Integer && want == Double)
}

func artifactCompatible(got, want string) bool {
	return got == want || got == "system.Artifact" || want == "system.Artifact" || got == "" || want == ""
}

func hasParam(d *Definitions, name string) bool { return paramDef(d, name) != nil }

func hasArtifact(d *Definitions, name string) bool { return artifactDef(d, name) != nil }

func paramDef(d *Definitions, name string) *ParameterSpec {
	if d == nil {
		return nil
	}
	return d.Parameters[name]
}

func artifactDef(d *Definitions, name string) *ArtifactSpec {
	if d == nil {
		return nil
	}
	return d.Artifacts[name]
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
