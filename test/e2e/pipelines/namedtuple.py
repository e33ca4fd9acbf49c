"""NamedTuple outputs of every primitive type consumed by a downstream task,
plus an output parameter written through OutputPath(str)."""
import sys
from typing import NamedTuple

from kfp import compiler, dsl


@dsl.component(base_image="python:3.11")
def split(n: int) -> NamedTuple("Outputs", [("half", int), ("label", str),
                                            ("ratio", float), ("even", bool),
                                            ("parts", list)]):
    from collections import namedtuple

    out = namedtuple("Outputs", ["half", "label", "ratio", "even", "parts"])
    return out(n // 2, f"n{n}", n / 8, n % 2 == 0, [n // 2, n - n // 2])


@dsl.component(base_image="python:3.11")
def shout(text: str, loud: dsl.OutputPath(str)):
    with open(loud, "w") as f:
        f.write(text.upper() + "!")


@dsl.component(base_image="python:3.11")
def combine(half: int, label: str, ratio: float, even: bool, parts: list,
            loud: str) -> str:
    got = [type(v).__name__ for v in (half, label, ratio, even, parts, loud)]
    return f"{label}|{half}|{ratio}|{even}|{parts}|{loud}|{','.join(got)}"


@dsl.pipeline(name="namedtuple")
def namedtuple_pipeline(n: int = 10):
    s = split(n=n)
    l = shout(text=s.outputs["label"])
    combine(
        half=s.outputs["half"],
        label=s.outputs["label"],
        ratio=s.outputs["ratio"],
        even=s.outputs["even"],
        parts=s.outputs["parts"],
        loud=l.outputs["loud"],
    )


if __name__ == "__main__":
    compiler.Compiler().compile(namedtuple_pipeline, sys.argv[1])
