"""Timeouts: kfp.kubernetes.set_timeout on steps that would sleep far
longer; one of them retried. `plain` has no timeout of its own (the run's
--task-timeout applies) and `roomy` has a generous one that wins over a
shorter --task-timeout."""
import sys

from kfp import compiler, dsl, kubernetes
from kfp.dsl import OutputPath


@dsl.container_component
def nap(name: str, seconds: float, dir: str, out: OutputPath(str)):
    return dsl.ContainerSpec(
        image="alpine:3",
        command=["sh", "-c", r"""
echo start >> "$3/$1.attempts"
echo "$1 sleeping $2 s"
sleep "$2"
printf "%s slept %s" "$1" "$2" > "$0"
"""],
        args=[out, name, seconds, dir],
    )


@dsl.pipeline(name="sem-timeout")
def timeout_pipeline(dir: str = "/tmp", plain_seconds: float = 0.0,
                     roomy_seconds: float = 0.0):
    limited = nap(name="limited", seconds=30.0, dir=dir)
    kubernetes.set_timeout(limited, 2)

    retried = nap(name="retried", seconds=30.0, dir=dir)
    kubernetes.set_timeout(retried, 1)
    retried.set_retry(num_retries=1, backoff_duration="0s")

    nap(name="plain", seconds=plain_seconds, dir=dir)

    roomy = nap(name="roomy", seconds=roomy_seconds, dir=dir)
    kubernetes.set_timeout(roomy, 20)


if __name__ == "__main__":
    compiler.Compiler().compile(timeout_pipeline, sys.argv[1])
