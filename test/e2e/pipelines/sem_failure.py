"""Failure semantics: a failing step fails the run; its downstream tasks
(direct, transitive, inside a condition and inside a nested pipeline) never
start; an independent chain that is still running when the failure happens
finishes."""
import sys

from kfp import compiler, dsl
from kfp.dsl import OutputPath


@dsl.container_component
def explode(code: int, out: OutputPath(str)):
    return dsl.ContainerSpec(
        image="alpine:3",
        command=["sh", "-c", r"""
echo "sem-failure: first line"
echo "sem-failure: about to exit $1" >&2
echo "sem-failure last words: disk on fire"
exit "$1"
"""],
        args=[out, code],
    )


@dsl.container_component
def step(text: str, hold: float, out: OutputPath(str)):
    return dsl.ContainerSpec(
        image="alpine:3",
        command=["sh", "-c", 'sleep "$2"; printf "%s." "$1" > "$0"'],
        args=[out, text, hold],
    )


@dsl.pipeline
def sub(text: str) -> str:
    return step(text=text, hold=0.0).outputs["out"]


@dsl.pipeline(name="sem-failure")
def failure_pipeline(code: int = 4):
    boom = explode(code=code)
    direct = step(text=boom.outputs["out"], hold=0.0)
    step(text=direct.outputs["out"], hold=0.0)
    with dsl.If(boom.outputs["out"] != "never"):
        step(text="in-condition", hold=0.0)
    sub(text=boom.outputs["out"])
    slow = step(text="slow", hold=1.5)
    step(text=slow.outputs["out"], hold=0.0)


if __name__ == "__main__":
    compiler.Compiler().compile(failure_pipeline, sys.argv[1])
