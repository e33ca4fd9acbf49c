"""dsl.If / Elif / Else and dsl.Condition on an int output, a string output
and a pipeline parameter. The branch taken is decided by the parameters, so
each run is deterministic: `n` picks big/five/small, `coin` heads/tails."""
import sys

from kfp import compiler, dsl
from kfp.dsl import OutputPath


@dsl.container_component
def emit_int(n: int, out: OutputPath(int)):
    return dsl.ContainerSpec(
        image="alpine:3",
        command=["sh", "-c", 'printf "%s" "$1" > "$0"'],
        args=[out, n],
    )


@dsl.container_component
def emit_str(s: str, out: OutputPath(str)):
    return dsl.ContainerSpec(
        image="alpine:3",
        command=["sh", "-c", 'printf "%s" "$1" > "$0"'],
        args=[out, s],
    )


@dsl.container_component
def mark(tag: str, value: str, out: OutputPath(str)):
    return dsl.ContainerSpec(
        image="alpine:3",
        command=["sh", "-c", 'printf "%s:%s" "$1" "$2" > "$0"'],
        args=[out, tag, value],
    )


@dsl.container_component
def mark_int(tag: str, value: int, out: OutputPath(str)):
    return dsl.ContainerSpec(
        image="alpine:3",
        command=["sh", "-c", 'printf "%s:%s" "$1" "$2" > "$0"'],
        args=[out, tag, value],
    )


@dsl.component(base_image="python:3.11")
def parity(n: int) -> int:
    return n % 2


@dsl.pipeline(name="sem-condition")
def condition_pipeline(n: int = 7, coin: str = "heads"):
    num = emit_int(n=n)
    with dsl.If(num.outputs["out"] > 5, name="is-big"):
        mark_int(tag="big", value=num.outputs["out"])
    with dsl.Elif(num.outputs["out"] == 5):
        mark_int(tag="five", value=num.outputs["out"])
    with dsl.Else():
        mark_int(tag="small", value=num.outputs["out"])

    flip = emit_str(s=coin)
    with dsl.If(flip.outputs["out"] == "heads"):
        mark(tag="heads", value=flip.outputs["out"])
    with dsl.Else():
        mark(tag="tails", value=flip.outputs["out"])

    with dsl.Condition(flip.outputs["out"] == "tails"):
        mark(tag="condition-tails", value=coin)

    odd = parity(n=n)
    with dsl.If(odd.output == 1):
        mark_int(tag="odd", value=n)

    with dsl.If(n < 0):
        mark_int(tag="negative", value=n)


if __name__ == "__main__":
    compiler.Compiler().compile(condition_pipeline, sys.argv[1])
