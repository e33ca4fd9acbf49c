"""Container components that talk the executor protocol directly:

- typed output parameters written to OutputPath files (int, float, bool,
  list, dict) are parsed by their declared type;
- an ExecutorOutput JSON written to {{$.outputs.output_file}} sets an output
  parameter and the metadata of an output artifact;
- a consumer sees that metadata through {{$.inputs.artifacts['x'].metadata}}.
"""
import sys
from typing import NamedTuple

from kfp import compiler, dsl
from kfp.dsl import Artifact, Input, Output, OutputPath


@dsl.container_component
def typed_outputs(
    n: OutputPath(int),
    ratio: OutputPath(float),
    ok: OutputPath(bool),
    items: OutputPath(list),
    conf: OutputPath(dict),
    text: OutputPath(str),
):
    return dsl.ContainerSpec(
        image="alpine:3",
        command=[
            "sh", "-c", r"""
printf '42' > "$1"
printf '0.375' > "$2"
printf 'True' > "$3"
printf '[1, "two", {"three": 3}]' > "$4"
printf '{"a": 1, "b": [true, null]}' > "$5"
printf ' spaced  text ' > "$6"
""", "typed"
        ],
        args=[n, ratio, ok, items, conf, text],
    )


@dsl.component(base_image="python:3.11")
def check_types(n: int, ratio: float, ok: bool, items: list, conf: dict,
                text: str) -> dict:
    vals = {"n": n, "ratio": ratio, "ok": ok, "items": items, "conf": conf,
            "text": text}
    return {k: [type(v).__name__, v] for k, v in vals.items()}


@dsl.container_component
def annotate(label: OutputPath(str), out: Output[Artifact]):
    return dsl.ContainerSpec(
        image="alpine:3",
        command=[
            "sh", "-c", r"""
printf 'annotated body' > "$1"
printf '{"parameterValues": {"label": "from-executor-output"}, "artifacts": {"out": {"artifacts": [{"uri": "%s", "metadata": {"stage": "annotated", "n": 2}}]}}}' "$2" > "$3"
""", "annotate"
        ],
        args=[out.path, out.uri, dsl.PIPELINE_TASK_EXECUTOR_OUTPUT_PATH_PLACEHOLDER],
    )


@dsl.container_component
def read_meta(art: Input[Artifact], meta: OutputPath(str), body: OutputPath(str)):
    return dsl.ContainerSpec(
        image="alpine:3",
        command=["sh", "-c", r"""printf '%s' "$2" > "$0"; cat "$3" > "$1" """],
        args=[meta, body, art.metadata, art.path],
    )


@dsl.pipeline(name="container-extra")
def container_extra_pipeline():
    t = typed_outputs()
    check_types(
        n=t.outputs["n"],
        ratio=t.outputs["ratio"],
        ok=t.outputs["ok"],
        items=t.outputs["items"],
        conf=t.outputs["conf"],
        text=t.outputs["text"],
    )
    a = annotate()
    read_meta(art=a.outputs["out"])


if __name__ == "__main__":
    compiler.Compiler().compile(container_extra_pipeline, sys.argv[1])
