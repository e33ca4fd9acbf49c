"""set_retry: a step that fails its first `fail_times` attempts (it counts
attempts in a file under `dir`), with and without enough retries, and with
an exponential backoff whose attempt start times the step records."""
import sys

from kfp import compiler, dsl
from kfp.dsl import OutputPath


@dsl.container_component
def flaky(dir: str, name: str, fail_times: int, out: OutputPath(str)):
    return dsl.ContainerSpec(
        image="alpine:3",
        command=["sh", "-c", r"""
out="$0"; dir="$1"; name="$2"; fail_times="$3"
count_file="$dir/$name.count"
n=$(( $(cat "$count_file" 2>/dev/null || echo 0) + 1 ))
echo "$n" > "$count_file"
date +%s.%N >> "$dir/$name.starts"
echo "attempt $n of $name"
if [ "$n" -le "$fail_times" ]; then
  echo "$name attempt $n failing" >&2
  exit 3
fi
printf "%s succeeded on attempt %s" "$name" "$n" > "$out"
"""],
        args=[out, dir, name, fail_times],
    )


@dsl.container_component
def after(text: str, out: OutputPath(str)):
    return dsl.ContainerSpec(
        image="alpine:3",
        command=["sh", "-c", 'printf "after:%s" "$1" > "$0"'],
        args=[out, text],
    )


@dsl.pipeline(name="sem-retry")
def retry_pipeline(dir: str = "/tmp"):
    # Fails twice, two retries: succeeds on attempt 3.
    recovers = flaky(dir=dir, name="recovers", fail_times=2)
    recovers.set_retry(num_retries=2, backoff_duration="0s")
    after(text=recovers.outputs["out"])

    # Fails three times, two retries: failed after 3 attempts.
    exhausted = flaky(dir=dir, name="exhausted", fail_times=5)
    exhausted.set_retry(num_retries=2, backoff_duration="0s")
    after(text=exhausted.outputs["out"])

    # Fails twice with a 1s backoff doubling each time: the attempts start
    # at least 1 s and then 2 s after the previous ones.
    backoff = flaky(dir=dir, name="backoff", fail_times=2)
    backoff.set_retry(num_retries=3, backoff_duration="1s",
                      backoff_factor=2.0, backoff_max_duration="10s")

    # No retry policy: a single attempt.
    once = flaky(dir=dir, name="once", fail_times=1)


if __name__ == "__main__":
    compiler.Compiler().compile(retry_pipeline, sys.argv[1])
