"""ParallelFor(parallelism=2): every iteration records when it started and
ended (date +%s.%N) in `dir`, so the test can compute how many overlapped."""
import sys

from kfp import compiler, dsl
from kfp.dsl import OutputPath


@dsl.container_component
def hold(item: int, dir: str, seconds: float, out: OutputPath(int)):
    return dsl.ContainerSpec(
        image="alpine:3",
        command=["sh", "-c", r"""
date +%s.%N > "$2/$1.start"
sleep "$3"
date +%s.%N > "$2/$1.end"
printf "%s" "$1" > "$0"
"""],
        args=[out, item, dir, seconds],
    )


@dsl.pipeline(name="sem-loop-parallelism")
def loop_parallelism_pipeline(dir: str = "/tmp", seconds: float = 0.4):
    with dsl.ParallelFor([0, 1, 2, 3, 4, 5], parallelism=2) as i:
        h = hold(item=i, dir=dir, seconds=seconds)
    # Unbounded sibling loop: not limited by the other loop's parallelism.
    with dsl.ParallelFor([10, 11, 12]) as j:
        hold(item=j, dir=dir, seconds=seconds)


if __name__ == "__main__":
    compiler.Compiler().compile(loop_parallelism_pipeline, sys.argv[1])
