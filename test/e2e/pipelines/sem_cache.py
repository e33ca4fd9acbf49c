"""Caching: every step appends a line to dir/<step>.runs each time it really
runs. `produce` depends on the seed; `regen` has caching disabled and always
writes the same content to a new artifact; `consume` reads regen's artifact,
so its cache key only stays the same if it depends on artifact content, not
on the artifact's URI. sem_cache_other.py is the same pipeline under another
name."""
import sys

from kfp import compiler, dsl
from kfp.dsl import Dataset, Input, Output, OutputPath

COUNT = 'echo run >> "$1/$2.runs"; '


@dsl.container_component
def produce(dir: str, name: str, seed: str, data: Output[Dataset],
            n: OutputPath(int)):
    return dsl.ContainerSpec(
        image="alpine:3",
        command=["sh", "-c", COUNT + 'printf "content-%s" "$3" > "$0"; '
                 'printf "%s" "${#3}" > "$4"'],
        args=[data.path, dir, name, seed, n],
    )


@dsl.container_component
def regen(dir: str, name: str, data: Output[Dataset]):
    return dsl.ContainerSpec(
        image="alpine:3",
        command=["sh", "-c", COUNT + 'printf "regenerated" > "$0"'],
        args=[data.path, dir, name],
    )


@dsl.container_component
def consume(dir: str, name: str, data: Input[Dataset], out: OutputPath(str)):
    return dsl.ContainerSpec(
        image="alpine:3",
        command=["sh", "-c", COUNT + 'printf "saw:%s" "$(cat "$3")" > "$0"'],
        args=[out, dir, name, data.path],
    )


def build(dir: str, seed: str):
    p = produce(dir=dir, name="produce", seed=seed)
    consume(dir=dir, name="consume-produced", data=p.outputs["data"])
    r = regen(dir=dir, name="regen")
    r.set_caching_options(False)
    consume(dir=dir, name="consume-regen", data=r.outputs["data"])


@dsl.pipeline(name="sem-cache")
def cache_pipeline(dir: str = "/tmp", seed: str = "a"):
    build(dir, seed)


if __name__ == "__main__":
    compiler.Compiler().compile(cache_pipeline, sys.argv[1])
