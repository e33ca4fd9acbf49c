"""Parameters of every type reach a lightweight Python component intact.

The component echoes each value together with the Python type name it
received, so the test can check both the value and the type.
"""
import sys
from typing import NamedTuple, Optional

from kfp import compiler, dsl


@dsl.component(base_image="python:3.11")
def echo_params(
    s: str,
    n: int,
    f: float,
    b: bool,
    l: list,
    d: dict,
    opt: Optional[str] = None,
) -> NamedTuple("Outputs", [("types", dict), ("s", str), ("n", int),
                            ("f", float), ("b", bool), ("l", list),
                            ("d", dict), ("opt", str)]):
    from collections import namedtuple

    seen = {}
    for name, value in [("s", s), ("n", n), ("f", f), ("b", b), ("l", l),
                        ("d", d), ("opt", opt)]:
        seen[name] = type(value).__name__
        print(f"param {name} = {value!r} ({type(value).__name__})")
    out = namedtuple("Outputs", ["types", "s", "n", "f", "b", "l", "d", "opt"])
    return out(seen, s, n, f, b, l, d, "<none>" if opt is None else opt)


@dsl.pipeline(name="params")
def params_pipeline(
    s: str = "hello",
    n: int = 7,
    f: float = 2.5,
    b: bool = True,
    l: list = ["one", 2.5, True],
    d: dict = {"k": "v", "ratio": 0.5, "flag": False},
    opt: Optional[str] = None,
):
    # Values that flow from the pipeline's own parameters. kfp compiles every
    # number in a default or constant as a double (7 -> 7.0), so the defaults
    # of the list and dict hold no integral numbers: their type is ambiguous.
    echo_params(s=s, n=n, f=f, b=b, l=l, d=d, opt=opt).set_caching_options(False)
    # Constants compiled into the task itself (runtimeValue.constant).
    echo_params(
        s="const",
        n=-5,
        f=0.25,
        b=False,
        l=[],
        d={"nested": {"x": [True, "y"]}},
    ).set_caching_options(False)


if __name__ == "__main__":
    compiler.Compiler().compile(params_pipeline, sys.argv[1])
