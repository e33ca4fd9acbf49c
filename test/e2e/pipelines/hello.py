"""Two container tasks in a chain; no Python environment needed. Used by the
run-store tests (runs list/get, logs) and the invalid-input tests."""
import sys

from kfp import compiler, dsl
from kfp.dsl import OutputPath


@dsl.container_component
def say(who: str, n: int, greeting: OutputPath(str)):
    return dsl.ContainerSpec(
        image="alpine:3",
        command=[
            "sh", "-c", r"""
i=0
while [ "$i" -lt "$2" ]; do echo "hello-from-weir-e2e $1 #$i"; i=$((i + 1)); done
echo "to-stderr $1" >&2
printf 'hello %s x%s' "$1" "$2" > "$0"
"""
        ],
        args=[greeting, who, n],
    )


@dsl.container_component
def shout(text: str, out: OutputPath(str)):
    return dsl.ContainerSpec(
        image="alpine:3",
        command=["sh", "-c", 'echo "shouting $1"; printf "%s!" "$1" > "$0"'],
        args=[out, text],
    )


@dsl.pipeline(name="hello")
def hello_pipeline(who: str = "world", n: int = 2):
    s = say(who=who, n=n)
    shout(text=s.outputs["greeting"])


if __name__ == "__main__":
    compiler.Compiler().compile(hello_pipeline, sys.argv[1])
