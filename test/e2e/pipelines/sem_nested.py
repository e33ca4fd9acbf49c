"""Pipelines used as components, three levels deep: parameters and an
artifact go down through every level and come back up as outputs."""
import sys
from typing import NamedTuple

from kfp import compiler, dsl
from kfp.dsl import Dataset, Input, Output, OutputPath


@dsl.container_component
def make_text(text: str, data: Output[Dataset]):
    return dsl.ContainerSpec(
        image="alpine:3",
        command=["sh", "-c", 'printf "%s" "$1" > "$0"'],
        args=[data.path, text],
    )


@dsl.container_component
def leaf(x: int, prefix: str, data: Input[Dataset], y: OutputPath(int),
         label: OutputPath(str), copy: Output[Dataset]):
    return dsl.ContainerSpec(
        image="alpine:3",
        command=["sh", "-c", r"""
y="$0"; label="$1"; copy="$2"; x="$3"; prefix="$4"; data="$5"
printf "%s" "$((x * 3))" > "$y"
printf "%s/%s" "$prefix" "$(cat "$data")" > "$label"
printf "%s+leaf" "$(cat "$data")" > "$copy"
"""],
        args=[y, label, copy.path, x, prefix, data.path],
    )


@dsl.container_component
def inc(x: int, out: OutputPath(int)):
    return dsl.ContainerSpec(
        image="alpine:3",
        command=["sh", "-c", 'printf "%s" "$(($1 + 1))" > "$0"'],
        args=[out, x],
    )


@dsl.container_component
def consume(n: int, label: str, data: Input[Dataset], out: OutputPath(str)):
    return dsl.ContainerSpec(
        image="alpine:3",
        command=["sh", "-c", 'printf "n=%s label=%s data=%s" "$1" "$2" "$(cat "$3")" > "$0"'],
        args=[out, n, label, data.path],
    )


@dsl.pipeline
def level3(x: int, prefix: str, data: Input[Dataset]) -> NamedTuple(
        "Outputs", y=int, label=str, copy=Dataset):
    l = leaf(x=x, prefix=f"{prefix}/l3", data=data)
    Outputs = NamedTuple("Outputs", y=int, label=str, copy=Dataset)
    return Outputs(y=l.outputs["y"], label=l.outputs["label"],
                   copy=l.outputs["copy"])


@dsl.pipeline
def level2(x: int, prefix: str, data: Input[Dataset]) -> NamedTuple(
        "Outputs", y=int, label=str, copy=Dataset):
    i = inc(x=x)
    inner = level3(x=i.outputs["out"], prefix=prefix, data=data)
    Outputs = NamedTuple("Outputs", y=int, label=str, copy=Dataset)
    return Outputs(y=inner.outputs["y"], label=inner.outputs["label"],
                   copy=inner.outputs["copy"])


@dsl.pipeline
def level1(x: int, prefix: str, data: Input[Dataset]) -> NamedTuple(
        "Outputs", y=int, label=str, copy=Dataset):
    mid = level2(x=x, prefix=prefix, data=data)
    i = inc(x=mid.outputs["y"])
    Outputs = NamedTuple("Outputs", y=int, label=str, copy=Dataset)
    return Outputs(y=i.outputs["out"], label=mid.outputs["label"],
                   copy=mid.outputs["copy"])


@dsl.pipeline(name="sem-nested")
def nested_pipeline(x: int = 4, prefix: str = "top"):
    src = make_text(text="payload")
    top = level1(x=x, prefix=prefix, data=src.outputs["data"])
    consume(n=top.outputs["y"], label=top.outputs["label"],
            data=top.outputs["copy"])


if __name__ == "__main__":
    compiler.Compiler().compile(nested_pipeline, sys.argv[1])
