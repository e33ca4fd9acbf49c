"""A diamond DAG: source fans out to two independent branches that fan back
in through their explicit outputs.

When `rendezvous` names a directory, each branch announces itself there and
waits (up to 60 s) for the other one: both can only finish if they run at
the same time. Each branch also returns the wall-clock interval it ran in.
"""
import sys

from kfp import compiler, dsl


@dsl.component(base_image="python:3.11")
def source(x: int) -> int:
    return x + 1


@dsl.component(base_image="python:3.11")
def branch(v: int, factor: int, side: str, rendezvous: str,
           hold: float) -> dict:
    import os
    import time

    start = time.time()
    if rendezvous:
        other = "right" if side == "left" else "left"
        open(os.path.join(rendezvous, side), "w").close()
        deadline = start + 60
        while not os.path.exists(os.path.join(rendezvous, other)):
            if time.time() > deadline:
                raise RuntimeError(f"{side}: {other} never ran concurrently")
            time.sleep(0.05)
    time.sleep(hold)
    return {"value": v * factor, "side": side, "start": start,
            "end": time.time()}


@dsl.component(base_image="python:3.11")
def join(a: dict, b: dict) -> str:
    return f"{a['side']}={a['value']},{b['side']}={b['value']}," \
           f"sum={a['value'] + b['value']}"


@dsl.pipeline(name="diamond")
def diamond_pipeline(x: int = 4, rendezvous: str = "", hold: float = 0.2):
    s = source(x=x)
    left = branch(v=s.output, factor=2, side="left", rendezvous=rendezvous,
                  hold=hold)
    right = branch(v=s.output, factor=10, side="right", rendezvous=rendezvous,
                   hold=hold)
    join(a=left.output, b=right.output)


if __name__ == "__main__":
    compiler.Compiler().compile(diamond_pipeline, sys.argv[1])
