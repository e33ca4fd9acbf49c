"""dsl.Collected fan-in of parameters and of artifacts, directly from a loop
and out of a nested pipeline (a pipeline with a loop inside, used as a
component, returning the collected lists)."""
import sys
from typing import List

from kfp import compiler, dsl
from kfp.dsl import Dataset, Input, Output, OutputPath


@dsl.container_component
def square(x: int, out: OutputPath(int)):
    return dsl.ContainerSpec(
        image="alpine:3",
        command=["sh", "-c", 'printf "%s" "$(($1 * $1))" > "$0"'],
        args=[out, x],
    )


@dsl.container_component
def write_data(x: int, data: Output[Dataset]):
    return dsl.ContainerSpec(
        image="alpine:3",
        command=["sh", "-c", 'printf "row-%s\\n" "$1" > "$0"'],
        args=[data.path, x],
    )


@dsl.component(base_image="python:3.11")
def summarize(values: List[int], datasets: Input[List[Dataset]]) -> str:
    texts = []
    for d in datasets:
        with open(d.path) as f:
            texts.append(f.read().strip())
    return f"sum={sum(values)} values={values} data={'|'.join(texts)}"


@dsl.pipeline
def fan(xs: list) -> List[int]:
    with dsl.ParallelFor(xs) as x:
        sq = square(x=x)
    return dsl.Collected(sq.outputs["out"])


@dsl.pipeline
def fan_data(xs: list) -> List[Dataset]:
    with dsl.ParallelFor(xs) as x:
        wd = write_data(x=x)
    return dsl.Collected(wd.outputs["data"])


@dsl.pipeline(name="sem-collected")
def collected_pipeline(xs: list = [3, 1, 4, 10, 5]):
    with dsl.ParallelFor(xs) as x:
        sq = square(x=x)
        wd = write_data(x=x)
    summarize(values=dsl.Collected(sq.outputs["out"]),
              datasets=dsl.Collected(wd.outputs["data"]))

    nested = fan(xs=[2, 7])
    nested_data = fan_data(xs=[6, 8, 9])
    summarize(values=nested.output, datasets=nested_data.output)


if __name__ == "__main__":
    compiler.Compiler().compile(collected_pipeline, sys.argv[1])
