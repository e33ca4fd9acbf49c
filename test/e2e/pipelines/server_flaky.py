"""Fails until a flag file exists; used to retry a failed run."""
import sys

from kfp import compiler, dsl


@dsl.container_component
def first(out: dsl.OutputPath(str)):
    return dsl.ContainerSpec(image="alpine", command=["sh", "-c", 'echo ran >> "$0.count"; printf one > "$0"'], args=[out])


@dsl.container_component
def gate(flag: str, prev: str):
    return dsl.ContainerSpec(image="alpine", command=["sh", "-c", 'test -f "$0" || { echo "no flag" >&2; exit 9; }'], args=[flag, prev])


@dsl.pipeline(name="server-flaky")
def pipe(flag: str):
    a = first()
    gate(flag=flag, prev=a.output)


if __name__ == "__main__":
    compiler.Compiler().compile(pipe, sys.argv[1])
