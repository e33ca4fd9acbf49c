"""dsl.ParallelFor over every kind of items kfp compiles: a raw list, a
pipeline parameter list, a task output list (from a Python return value and
from a container's output file holding JSON text), a list of dicts with
field access, artifacts, and a loop in a loop. Each loop's results are
fanned in with dsl.Collected so the test sees the values in iteration
order."""
import sys
from typing import List

from kfp import compiler, dsl
from kfp.dsl import Dataset, Input, Output, OutputPath


@dsl.container_component
def echo(v: str, out: OutputPath(str)):
    return dsl.ContainerSpec(
        image="alpine:3",
        command=["sh", "-c", 'printf "<%s>" "$1" > "$0"'],
        args=[out, v],
    )


@dsl.container_component
def times_ten(v: int, out: OutputPath(int)):
    return dsl.ContainerSpec(
        image="alpine:3",
        command=["sh", "-c", 'printf "%s" "$(($1 * 10))" > "$0"'],
        args=[out, v],
    )


@dsl.component(base_image="python:3.11")
def make_ints(n: int) -> List[int]:
    return [i * i for i in range(1, n + 1)]


@dsl.container_component
def json_list(out: OutputPath(list)):
    # The output file holds JSON text, as any container writes it.
    return dsl.ContainerSpec(
        image="alpine:3",
        command=["sh", "-c", """printf '["p", "q", "r s"]' > "$0" """],
        args=[out],
    )


@dsl.container_component
def pair(a: int, b: str, out: OutputPath(str)):
    return dsl.ContainerSpec(
        image="alpine:3",
        command=["sh", "-c", 'printf "%s=%s" "$2" "$1" > "$0"'],
        args=[out, a, b],
    )


@dsl.container_component
def add(a: int, b: int, out: OutputPath(int)):
    return dsl.ContainerSpec(
        image="alpine:3",
        command=["sh", "-c", 'printf "%s" "$(($1 + $2))" > "$0"'],
        args=[out, a, b],
    )


@dsl.container_component
def make_data(tag: str, data: Output[Dataset]):
    return dsl.ContainerSpec(
        image="alpine:3",
        command=["sh", "-c", 'printf "data-%s" "$1" > "$0"'],
        args=[data.path, tag],
    )


@dsl.container_component
def read_data(data: Input[Dataset], out: OutputPath(str)):
    return dsl.ContainerSpec(
        image="alpine:3",
        command=["sh", "-c", 'printf "read:%s" "$(cat "$1")" > "$0"'],
        args=[out, data.path],
    )


@dsl.container_component
def join(items: list, out: OutputPath(str)):
    return dsl.ContainerSpec(
        image="alpine:3",
        command=["sh", "-c", 'printf "%s" "$1" > "$0"'],
        args=[out, items],
    )


@dsl.pipeline
def read_each(datasets: Input[List[Dataset]]) -> List[str]:
    with dsl.ParallelFor(datasets) as d:
        r = read_data(data=d)
    return dsl.Collected(r.outputs["out"])


@dsl.pipeline(name="sem-loop")
def loop_pipeline(
    words: list = ["alpha", "beta", "gamma"],
    records: list = [{"a": 1, "b": "one"}, {"a": 2, "b": "two"}],
    n: int = 3,
):
    # 1. A raw list.
    with dsl.ParallelFor([3, 5, 2]) as raw:
        t1 = times_ten(v=raw)
    join(items=dsl.Collected(t1.outputs["out"])).set_display_name("raw")

    # 2. A pipeline parameter.
    with dsl.ParallelFor(words) as w:
        e2 = echo(v=w)
    join(items=dsl.Collected(e2.outputs["out"]))

    # 3. A task output list (a Python List[int] return value).
    ints = make_ints(n=n)
    with dsl.ParallelFor(ints.output) as i:
        t3 = times_ten(v=i)
    join(items=dsl.Collected(t3.outputs["out"]))

    # 4. A task output list read from a file holding JSON text.
    jl = json_list()
    with dsl.ParallelFor(jl.outputs["out"]) as s:
        e4 = echo(v=s)
    join(items=dsl.Collected(e4.outputs["out"]))

    # 5. Dicts with field access, raw and from a parameter.
    with dsl.ParallelFor([{"a": 10, "b": 1}, {"a": 20, "b": 2}]) as rec:
        p5 = add(a=rec.a, b=rec.b)
    join(items=dsl.Collected(p5.outputs["out"]))
    with dsl.ParallelFor(records) as rec2:
        p6 = pair(a=rec2.a, b=rec2.b)
    join(items=dsl.Collected(p6.outputs["out"]))

    # 6. Artifacts: a loop over the collected datasets of another loop,
    # inside a nested pipeline.
    with dsl.ParallelFor(["u", "v", "w"]) as tag:
        md = make_data(tag=tag)
    each = read_each(datasets=dsl.Collected(md.outputs["data"]))
    join(items=each.output)

    # 7. A loop in a loop, the inner one collected per outer iteration.
    with dsl.ParallelFor(["x", "y"]) as outer:
        with dsl.ParallelFor([5, 6, 7]) as inner:
            p7 = pair(a=inner, b=outer)
        j7 = join(items=dsl.Collected(p7.outputs["out"]))
    join(items=dsl.Collected(j7.outputs["out"]))


if __name__ == "__main__":
    compiler.Compiler().compile(loop_pipeline, sys.argv[1])
