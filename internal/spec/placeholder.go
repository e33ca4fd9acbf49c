package spec

import (
	"encoding/json"
	"fmt"
	"strings"
)

// RefKind says what a placeholder refers to.
type RefKind string

// The placeholder kinds of the executor protocol.
const (
	RefExecutorInput   RefKind = "executor_input"   // {{$}}
	RefInputParameter  RefKind = "input_parameter"  // {{$.inputs.parameters['x']}}
	RefInputArtifact   RefKind = "input_artifact"   // {{$.inputs.artifacts['x'].path}}
	RefOutputParameter RefKind = "output_parameter" // {{$.outputs.parameters['x'].output_file}}
	RefOutputArtifact  RefKind = "output_artifact"  // {{$.outputs.artifacts['x'].uri}}
	RefOutputFile      RefKind = "output_file"      // {{$.outputs.output_file}}
	RefRuntime         RefKind = "runtime"          // {{$.pipeline_job_name}} and friends
)

// Runtime placeholder names (the Name of a RefRuntime).
const (
	RuntimeJobName      = "pipeline_job_name"
	RuntimeJobUUID      = "pipeline_job_uuid"
	RuntimeTaskName     = "pipeline_task_name"
	RuntimeTaskUUID     = "pipeline_task_uuid"
	RuntimeRoot         = "pipeline_root"
	RuntimeCreateTime   = "pipeline_job_create_time_utc"
	RuntimeScheduleTime = "pipeline_job_schedule_time_utc"
)

var runtimeNames = map[string]bool{
	RuntimeJobName: true, RuntimeJobUUID: true, RuntimeTaskName: true, RuntimeTaskUUID: true,
	RuntimeRoot: true, RuntimeCreateTime: true, RuntimeScheduleTime: true,
}

// Ref is one parsed placeholder.
type Ref struct {
	Kind RefKind
	Name string // input/output name, or the runtime placeholder name
	Attr string // for artifacts: path, uri or metadata; for output parameters: output_file
	Key  string // for metadata['key']: one metadata field
}

// Segment is a piece of a template string: literal text or a placeholder.
type Segment struct {
	Text string
	Ref  *Ref
}

// ParseTemplate splits s into literal text and placeholders. Text inside
// {{ }} that is not a placeholder of the executor protocol is an error.
func ParseTemplate(s string) ([]Segment, error) {
	var out []Segment
	for {
		i := strings.Index(s, "{{$")
		if i < 0 {
			if s != "" {
				out = append(out, Segment{Text: s})
			}
			return out, nil
		}
		j := strings.Index(s[i:], "}}")
		if j < 0 {
			return nil, fmt.Errorf("unterminated placeholder %q", s[i:])
		}
		if i > 0 {
			out = append(out, Segment{Text: s[:i]})
		}
		body := s[i+2 : i+j]
		ref, err := parseRef(body)
		if err != nil {
			return nil, err
		}
		out = append(out, Segment{Ref: ref})
		s = s[i+j+2:]
	}
}

func parseRef(body string) (*Ref, error) {
	bad := func() (*Ref, error) { return nil, fmt.Errorf("unknown placeholder {{%s}}", body) }
	if body == "$" {
		return &Ref{Kind: RefExecutorInput}, nil
	}
	rest, ok := strings.CutPrefix(body, "$.")
	if !ok {
		return bad()
	}
	if runtimeNames[rest] {
		return &Ref{Kind: RefRuntime, Name: rest}, nil
	}
	if rest == "outputs.output_file" {
		return &Ref{Kind: RefOutputFile}, nil
	}
	var kind RefKind
	var attrs []string
	switch {
	case strings.HasPrefix(rest, "inputs.parameters["):
		kind, rest = RefInputParameter, strings.TrimPrefix(rest, "inputs.parameters")
	case strings.HasPrefix(rest, "inputs.artifacts["):
		kind, rest, attrs = RefInputArtifact, strings.TrimPrefix(rest, "inputs.artifacts"), []string{"path", "uri", "metadata"}
	case strings.HasPrefix(rest, "outputs.parameters["):
		kind, rest, attrs = RefOutputParameter, strings.TrimPrefix(rest, "outputs.parameters"), []string{"output_file"}
	case strings.HasPrefix(rest, "outputs.artifacts["):
		kind, rest, attrs = RefOutputArtifact, strings.TrimPrefix(rest, "outputs.artifacts"), []string{"path", "uri", "metadata"}
	default:
		return bad()
	}
	name, tail, ok := cutBracketName(rest)
	if !ok {
		return bad()
	}
	ref := &Ref{Kind: kind, Name: name}
	if len(attrs) == 0 {
		if tail != "" {
			return bad()
		}
		return ref, nil
	}
	attr, ok := strings.CutPrefix(tail, ".")
	if !ok {
		return bad()
	}
	if rest, ok := strings.CutPrefix(attr, "metadata"); ok && rest != "" && (kind == RefInputArtifact || kind == RefOutputArtifact) {
		key, after, ok := cutBracketName(rest)
		if !ok || after != "" {
			return bad()
		}
		ref.Attr, ref.Key = "metadata", key
		return ref, nil
	}
	for _, a := range attrs {
		if attr == a {
			ref.Attr = a
			return ref, nil
		}
	}
	return bad()
}

// cutBracketName parses ['name'] (or ["name"]) and returns the name and the
// text after the closing bracket.
func cutBracketName(s string) (name, tail string, ok bool) {
	if len(s) < 4 || s[0] != '[' || (s[1] != '\'' && s[1] != '"') {
		return "", "", false
	}
	q := s[1]
	end := strings.IndexByte(s[2:], q)
	if end < 0 || len(s) < end+4 || s[2+end+1] != ']' {
		return "", "", false
	}
	return s[2 : 2+end], s[2+end+2:], true
}

// Arg is one element of a container's command or args: a template string,
// or a structured placeholder written as a whole-element JSON string.
type Arg struct {
	Template  []Segment // a plain string
	IfPresent *IfPresentArg
	Concat    []Arg
}

// IfPresentArg expands to Then when the named input was supplied, else to
// Else.
type IfPresentArg struct {
	InputName string
	Then      []Arg
	Else      []Arg
}

// ParseArg parses one command or args element.
func ParseArg(s string) (Arg, error) {
	t := strings.TrimSpace(s)
	if strings.HasPrefix(t, `{"IfPresent"`) || strings.HasPrefix(t, `{"Concat"`) {
		var v any
		if err := json.Unmarshal([]byte(t), &v); err != nil {
			return Arg{}, fmt.Errorf("invalid structured placeholder %q: %w", s, err)
		}
		return parseArgValue(v)
	}
	segs, err := ParseTemplate(s)
	if err != nil {
		return Arg{}, err
	}
	return Arg{Template: segs}, nil
}

func parseArgValue(v any) (Arg, error) {
	switch x := v.(type) {
	case string:
		return ParseArg(x)
	case map[string]any:
		if len(x) != 1 {
			return Arg{}, fmt.Errorf("a structured placeholder has exactly one key, found %d", len(x))
		}
		if c, ok := x["Concat"]; ok {
			items, ok := c.([]any)
			if !ok {
				return Arg{}, fmt.Errorf("Concat expects a list")
			}
			args, err := parseArgList(items)
			if err != nil {
				return Arg{}, err
			}
			return Arg{Concat: args}, nil
		}
		if ip, ok := x["IfPresent"].(map[string]any); ok {
			name, _ := ip["InputName"].(string)
			if name == "" {
				return Arg{}, fmt.Errorf("IfPresent needs an InputName")
			}
			out := &IfPresentArg{InputName: name}
			for key, dst := range map[string]*[]Arg{"Then": &out.Then, "Else": &out.Else} {
				switch b := ip[key].(type) {
				case nil:
				case []any:
					args, err := parseArgList(b)
					if err != nil {
						return Arg{}, fmt.Errorf("IfPresent.%s: %w", key, err)
					}
					*dst = args
				default:
					a, err := parseArgValue(b)
					if err != nil {
						return Arg{}, fmt.Errorf("IfPresent.%s: %w", key, err)
					}
					*dst = []Arg{a}
				}
			}
			return Arg{IfPresent: out}, nil
		}
		return Arg{}, fmt.Errorf("unknown structured placeholder %v", keys(x))
	}
	return Arg{}, fmt.Errorf("unexpected %T in structured placeholder", v)
}

func parseArgList(items []any) ([]Arg, error) {
	out := make([]Arg, 0, len(items))
	for _, it := range items {
		a, err := parseArgValue(it)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, nil
}

func keys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// Refs returns every placeholder an Arg mentions, with the IfPresent input
// names reported as input-parameter-or-artifact references.
func (a Arg) Refs() []Ref {
	var out []Ref
	for _, s := range a.Template {
		if s.Ref != nil {
			out = append(out, *s.Ref)
		}
	}
	for _, c := range a.Concat {
		out = append(out, c.Refs()...)
	}
	if a.IfPresent != nil {
		for _, c := range a.IfPresent.Then {
			out = append(out, c.Refs()...)
		}
		for _, c := range a.IfPresent.Else {
			out = append(out, c.Refs()...)
		}
	}
	return out
}
