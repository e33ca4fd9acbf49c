"""dsl.OneOf for parameters and for artifacts: the If/Elif/Else branch that
ran supplies the value, and a consumer outside the branches reads it."""
import sys

from kfp import compiler, dsl
from kfp.dsl import Dataset, Input, Output, OutputPath


@dsl.container_component
def param_a(out: OutputPath(str)):
    return dsl.ContainerSpec(
        image="alpine:3",
        command=["sh", "-c", 'printf "from-a" > "$0"'],
        args=[out],
    )


@dsl.container_component
def param_b(suffix: str, out: OutputPath(str)):
    return dsl.ContainerSpec(
        image="alpine:3",
        command=["sh", "-c", 'printf "from-b-%s" "$1" > "$0"'],
        args=[out, suffix],
    )


@dsl.container_component
def param_c(out: OutputPath(str)):
    return dsl.ContainerSpec(
        image="alpine:3",
        command=["sh", "-c", 'printf "from-c" > "$0"'],
        args=[out],
    )


@dsl.container_component
def data_x(data: Output[Dataset]):
    return dsl.ContainerSpec(
        image="alpine:3",
        command=["sh", "-c", 'printf "dataset x\\n" > "$0"'],
        args=[data.path],
    )


@dsl.container_component
def data_y(data: Output[Dataset]):
    return dsl.ContainerSpec(
        image="alpine:3",
        command=["sh", "-c", 'printf "dataset y\\n" > "$0"'],
        args=[data.path],
    )


@dsl.container_component
def use_param(value: str, out: OutputPath(str)):
    return dsl.ContainerSpec(
        image="alpine:3",
        command=["sh", "-c", 'printf "got %s" "$1" > "$0"'],
        args=[out, value],
    )


@dsl.container_component
def use_data(data: Input[Dataset], out: OutputPath(str)):
    return dsl.ContainerSpec(
        image="alpine:3",
        command=["sh", "-c", 'printf "read %s" "$(cat "$1")" > "$0"'],
        args=[out, data.path],
    )


@dsl.pipeline(name="sem-oneof")
def oneof_pipeline(mode: str = "a"):
    with dsl.If(mode == "a"):
        a = param_a()
    with dsl.Elif(mode == "b"):
        b = param_b(suffix=mode)
    with dsl.Else():
        c = param_c()
    use_param(value=dsl.OneOf(a.outputs["out"], b.outputs["out"],
                              c.outputs["out"]))

    with dsl.If(mode == "a"):
        x = data_x()
    with dsl.Else():
        y = data_y()
    use_data(data=dsl.OneOf(x.outputs["data"], y.outputs["data"]))


if __name__ == "__main__":
    compiler.Compiler().compile(oneof_pipeline, sys.argv[1])
