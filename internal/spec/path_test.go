package spec

import (
	"strings"
	"testing"
)

// TestErrorPaths pins the text of field paths in errors and warnings for
// values nested in mappings and lists, including keys that need quoting.
// The paths are rendered only when a problem is reported, and must read
// exactly as they always have.
func TestErrorPaths(t *testing.T) {
	base, err := readTestdata("basic.yaml")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		doc  string
		want string
	}{{
		name: "type mismatch in a task input",
		doc: strings.Replace(base, `            count:
              taskOutputParameter:
                outputParameterKey: count
                producerTask: prep
`, `            count: not-a-mapping
`, 1),
		// encoding/json's own path leaves out map keys (the task and
		// parameter names); the error names them.
		want: "p.yaml: root.dag.tasks.train.inputs.parameters.count: expected a mapping, found string",
	}, {
		name: "type mismatch in a component's task input",
		doc: `
components:
  comp-x:
    dag:
      tasks:
        t:
          inputs:
            parameters:
              p: [1, 2]
`,
		want: "p.yaml: components.comp-x.dag.tasks.t.inputs.parameters.p: expected a mapping, found array",
	}, {
		name: "type mismatch in a list under a map key",
		doc: `
deploymentSpec:
  executors:
    exec-a:
      container: {image: x, command: [sh]}
    exec-b:
      container: {image: x, command: [sh, true]}
`,
		want: "p.yaml: deploymentSpec.executors.exec-b.container.command[1]: expected a string, found bool",
	}, {
		name: "a list where a mapping belongs, under a quoted key",
		doc: `
components:
  "comp x.y": [1]
`,
		want: "p.yaml: components[\"comp x.y\"]: expected a mapping, found array",
	}, {
		name: "duplicate key in a list element",
		doc: `
deploymentSpec:
  executors:
    exec-x:
      container:
        args: [a, b, c, {x: 1, x: 2}]
`,
		want: "p.yaml: deploymentSpec.executors.exec-x.container.args[3].x: duplicate key \"x\" (line 6)",
	}, {
		name: "number JSON cannot hold, in nested lists",
		doc: `
root:
  inputDefinitions:
    parameters:
      p:
        defaultValue: [[1, 2], [3, .nan]]
`,
		want: "p.yaml: root.inputDefinitions.parameters.p.defaultValue[1][1]: number \".nan\" cannot be represented in JSON",
	}, {
		name: "quoted keys and indexes",
		doc: `
"comp x":
  "a.b":
    - 0
    - 1
    - 2
    - {c: [!!int abc]}
`,
		want: "p.yaml: [\"comp x\"][\"a.b\"][3].c[0]: invalid integer \"abc\"",
	}, {
		name: "index at the root",
		doc:  "- 1\n- !!bool maybe\n",
		want: "p.yaml: [1]: invalid boolean \"maybe\"",
	}, {
		name: "several problems in document order",
		doc: `
a:
  - {k: 1, k: 2}
  - {"k k": 1, "k k": 2}
b: !!float x
`,
		want: "3 problems:\n" +
			"  p.yaml: a[0].k: duplicate key \"k\" (line 3)\n" +
			"  p.yaml: a[1][\"k k\"]: duplicate key \"k k\" (line 4)\n" +
			"  p.yaml: b: invalid number \"x\"",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := Decode("p.yaml", []byte(tt.doc))
			if err == nil {
				t.Fatal("decode succeeded")
			}
			if got := err.Error(); got != tt.want {
				t.Errorf("error:\n got %q\nwant %q", got, tt.want)
			}
		})
	}
}

// TestWarningPaths pins the paths of fields weir does not understand,
// nested in maps and lists.
func TestWarningPaths(t *testing.T) {
	base, err := readTestdata("basic.yaml")
	if err != nil {
		t.Fatal(err)
	}
	doc := strings.Replace(base, `        command:
        - sh
        - -c
        image: alpine`, `        command:
        - sh
        - -c
        env:
        - name: A
        - name: B
          from: x
        image: alpine`, 1)
	doc = strings.Replace(doc, "pipelineInfo:\n", "pipelineInfo:\n  \"odd key\": 1\n", 1)
	_, warns, err := Decode("p.yaml", []byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, w := range warns {
		got = append(got, w.String())
	}
	want := []string{
		"p.yaml: deploymentSpec.executors.exec-echo.container.env[1].from: field not understood by weir; ignored",
		"p.yaml: pipelineInfo[\"odd key\"]: field not understood by weir; ignored",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("warnings:\n got %q\nwant %q", got, want)
	}
}
