"""Compiles cli.yaml, the pipeline the cli package tests run (kfp 2.17.3)."""
import sys
from kfp import dsl, compiler


@dsl.container_component
def say(msg: str, n: int, out: dsl.OutputPath(str)):
    return dsl.ContainerSpec(image="alpine", command=["sh", "-c", 'echo "said $0 x$1"; printf "%s/%s" "$0" "$1" > "$2"'], args=[msg, n, out])


@dsl.container_component
def maybe_fail(code: int):
    return dsl.ContainerSpec(image="alpine", command=["sh", "-c", 'echo "failing with $0" >&2; exit "$0"'], args=[code])


@dsl.pipeline(name="cli-test")
def pipe(msg: str = "hello", n: int = 2, code: int = 0):
    a = say(msg=msg, n=n)
    f = maybe_fail(code=code)
    say(msg=a.output, n=n).after(f)


if __name__ == "__main__":
    compiler.Compiler().compile(pipe, sys.argv[1])
