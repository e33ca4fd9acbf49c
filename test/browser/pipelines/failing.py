"""A run that fails: "prepare" succeeds, "explode" exits 3 after printing to
stderr, and "after", which needs it, never runs.

    python failing.py OUT.yaml
"""
import sys

from kfp import compiler, dsl


@dsl.container_component
def prepare():
    return dsl.ContainerSpec(image="alpine:3", command=["sh", "-c", "echo preparing"])


@dsl.container_component
def explode():
    return dsl.ContainerSpec(
        image="alpine:3",
        command=["sh", "-c", "echo about to fail; echo weir-browser-boom >&2; exit 3"],
    )


@dsl.container_component
def after():
    return dsl.ContainerSpec(image="alpine:3", command=["sh", "-c", "echo never"])


@dsl.pipeline(name="failing-browser")
def failing():
    p = prepare()
    e = explode().after(p)
    after().after(e)


if __name__ == "__main__":
    compiler.Compiler().compile(failing, sys.argv[1])
