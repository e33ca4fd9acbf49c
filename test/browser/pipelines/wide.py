"""A wide run for timing the run page: a dsl.ParallelFor over `n` items of a
trivial container step (each iteration is one iteration task and one step).

    python wide.py OUT.yaml
"""
import sys

from kfp import compiler, dsl
from kfp.dsl import OutputPath


@dsl.container_component
def make_items(n: int, out: OutputPath(list)):
    """Writes the JSON list [0, 1, ..., n-1]."""
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
def step(item: str):
    return dsl.ContainerSpec(
        image="alpine:3",
        command=["sh", "-c", 'printf "item %s\\n" "$0"'],
        args=[item],
    )


@dsl.pipeline(name="wide")
def wide(n: int = 10):
    items = make_items(n=n)
    with dsl.ParallelFor(items.outputs["out"]) as item:
        step(item=item)


if __name__ == "__main__":
    compiler.Compiler().compile(wide, sys.argv[1])
