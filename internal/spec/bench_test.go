package spec

import (
	"fmt"
	"os"
	"strings"
	"testing"
)

// loopSpec returns a pipeline shaped like the kfp 2.17 compiler's output for
// a ParallelFor over a root input whose default is a list of n strings:
//
//	@dsl.pipeline(name="loop")
//	def pipe(items: list = ["part000", ...]):
//	    with dsl.ParallelFor(items) as it:
//	        echo(msg=it)
//
// It is built from a template so that the repository holds no large
// generated file; with n = 1000 it is about 32 KB, most of it the default
// list (once in the header comment and once in the spec).
func loopSpec(n int) []byte {
	items := make([]string, n)
	for i := range items {
		items[i] = fmt.Sprintf("part%03d", i)
	}
	var b strings.Builder
	b.WriteString("# PIPELINE DEFINITION\n# Name: loop\n# Inputs:\n#    items: list [Default: ['")
	b.WriteString(strings.Join(items, "', '"))
	b.WriteString("']]\n")
	b.WriteString(loopSpecHead)
	for _, it := range items {
		b.WriteString("        - " + it + "\n")
	}
	b.WriteString(loopSpecTail)
	return []byte(b.String())
}

const loopSpecHead = `components:
  comp-echo:
    executorLabel: exec-echo
    inputDefinitions:
      parameters:
        msg:
          parameterType: STRING
    outputDefinitions:
      parameters:
        Output:
          parameterType: STRING
  comp-for-loop-2:
    dag:
      tasks:
        echo:
          cachingOptions:
            enableCache: true
          componentRef:
            name: comp-echo
          inputs:
            parameters:
              msg:
                componentInputParameter: pipelinechannel--items-loop-item
          taskInfo:
            name: echo
    inputDefinitions:
      parameters:
        pipelinechannel--items:
          parameterType: LIST
        pipelinechannel--items-loop-item:
          parameterType: STRING
deploymentSpec:
  executors:
    exec-echo:
      container:
        args:
        - --executor_input
        - '{{$}}'
        - --function_to_execute
        - echo
        command:
        - sh
        - -c
        - "\nif ! [ -x \"$(command -v pip)\" ]; then\n    python3 -m ensurepip ||\
          \ python3 -m ensurepip --user || apt-get install python3-pip\nfi\n\nPIP_DISABLE_PIP_VERSION_CHECK=1\
          \ python3 -m pip install --quiet --no-warn-script-location 'kfp==2.17.3'\
          \ '--no-deps' 'typing-extensions>=3.7.4,<5; python_version<\"3.9\"' && \"\
          $0\" \"$@\"\n"
        - sh
        - -ec
        - 'program_path=$(mktemp -d)


          printf "%s" "$0" > "$program_path/ephemeral_component.py"

          _KFP_RUNTIME=true python3 -m kfp.dsl.executor_main                         --component_module_path                         "$program_path/ephemeral_component.py"                         "$@"

          '
        - "\nimport kfp\nfrom kfp import dsl\nfrom kfp.dsl import *\nfrom typing import\
          \ *\n\ndef echo(msg: str) -> str:\n    return msg\n\n"
        image: python:3.11
pipelineInfo:
  name: loop
root:
  dag:
    tasks:
      for-loop-2:
        componentRef:
          name: comp-for-loop-2
        inputs:
          parameters:
            pipelinechannel--items:
              componentInputParameter: items
        parameterIterator:
          itemInput: pipelinechannel--items-loop-item
          items:
            inputParameter: pipelinechannel--items
        taskInfo:
          name: for-loop-2
  inputDefinitions:
    parameters:
      items:
        defaultValue:
`

const loopSpecTail = `        isOptional: true
        parameterType: LIST
schemaVersion: 2.1.0
sdkVersion: kfp-2.17.3
`

// BenchmarkDecodeLoop1000 measures Decode on the pipeline weir decodes once
// per run: a ParallelFor over a 1000-item default list.
func BenchmarkDecodeLoop1000(b *testing.B) {
	data := loopSpec(1000)
	if _, _, err := Decode("loop.yaml", data); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := Decode("loop.yaml", data); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecodeControlflow measures Decode on a pipeline with every kind
// of control flow, whose cost is spread over many small mappings.
func BenchmarkDecodeControlflow(b *testing.B) {
	data, err := os.ReadFile("testdata/controlflow.yaml")
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := Decode("controlflow.yaml", data); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDocumentJSON measures the conversion the server applies to every
// stored spec it lists.
func BenchmarkDocumentJSON(b *testing.B) {
	data := loopSpec(1000)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := DocumentJSON(data); err != nil {
			b.Fatal(err)
		}
	}
}
