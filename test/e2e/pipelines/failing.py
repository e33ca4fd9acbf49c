"""Failing steps: a Python component that raises and a container component
that exits 3. Their downstream tasks must never start; an independent chain
still runs to completion."""
import sys

from kfp import compiler, dsl


@dsl.component(base_image="python:3.11")
def py_boom(x: int) -> str:
    print("py-boom is about to fail")
    raise ValueError(f"weir-e2e-python-failure x={x}")


@dsl.component(base_image="python:3.11")
def after_py(msg: str) -> str:
    return "after-py ran: " + msg


@dsl.container_component
def sh_boom():
    return dsl.ContainerSpec(
        image="alpine:3",
        command=["sh", "-c", "echo sh-boom-stdout; echo boom >&2; exit 3"],
    )


@dsl.container_component
def after_sh(out: dsl.OutputPath(str)):
    return dsl.ContainerSpec(
        image="alpine:3",
        command=["sh", "-c", 'printf after-sh > "$0"'],
        args=[out],
    )


@dsl.container_component
def independent(tag: str, step: int, out: dsl.OutputPath(str)):
    return dsl.ContainerSpec(
        image="alpine:3",
        command=["sh", "-c", 'echo "independent $1"; printf "%s-%s" "$1" "$2" > "$0"'],
        args=[out, tag, step],
    )


@dsl.pipeline(name="failing")
def failing_pipeline(x: int = 5):
    b = py_boom(x=x)
    after_py(msg=b.output)
    s = sh_boom()
    after_sh().after(s)
    first = independent(tag="one", step=1)
    independent(tag=first.outputs["out"], step=2)


if __name__ == "__main__":
    compiler.Compiler().compile(failing_pipeline, sys.argv[1])
