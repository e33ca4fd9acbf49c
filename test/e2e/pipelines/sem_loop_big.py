"""A loop of `n` (10,000 in the test) iterations of a trivial container step,
fanned in with dsl.Collected."""
import sys

from kfp import compiler, dsl
from kfp.dsl import OutputPath


@dsl.container_component
def make_items(n: int, out: OutputPath(list)):
    return dsl.ContainerSpec(
        image="alpine:3",
        command=["sh", "-c", r"""
i=0; sep=""
{ printf "["
  while [ "$i" -lt "$1" ]; do printf '%s%s' "$sep" "$i"; sep=","; i=$((i + 1)); done
  printf "]"; } > "$0"
"""],
        args=[out, n],
    )


@dsl.container_component
def echo(item: str, out: OutputPath(str)):
    return dsl.ContainerSpec(
        image="alpine:3",
        command=["sh", "-c", 'printf "%s" "$0" > "$1"'],
        args=[item, out],
    )


@dsl.container_component
def gather(values: list, out: OutputPath(str)):
    return dsl.ContainerSpec(
        image="alpine:3",
        command=["sh", "-c", 'printf "%s" "$1" > "$0"'],
        args=[out, values],
    )


@dsl.pipeline(name="sem-loop-big")
def loop_big_pipeline(n: int = 10000):
    items = make_items(n=n)
    with dsl.ParallelFor(items.outputs["out"]) as item:
        e = echo(item=item)
    gather(values=dsl.Collected(e.outputs["out"]))


if __name__ == "__main__":
    compiler.Compiler().compile(loop_big_pipeline, sys.argv[1])
