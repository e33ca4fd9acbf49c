"""dsl.ExitHandler with a PipelineTaskFinalStatus exit task, and a task with
ignore_upstream_failure(). The body either succeeds, fails (fail=True) or
sleeps (sleep > 0) so that the test can cancel the run; the body's process
writes its pid to pid_dir/body.pid."""
import sys

from kfp import compiler, dsl
from kfp.dsl import OutputPath, PipelineTaskFinalStatus


@dsl.container_component
def body(fail: bool, sleep: int, pid_dir: str, out: OutputPath(str)):
    return dsl.ContainerSpec(
        image="alpine:3",
        command=["sh", "-c", r"""
out="$0"; fail="$1"; sleep_s="$2"; pid_dir="$3"
echo "body starting fail=$fail"
if [ "$sleep_s" -gt 0 ]; then
  echo $$ > "$pid_dir/body.pid.tmp" && mv "$pid_dir/body.pid.tmp" "$pid_dir/body.pid"
  exec sleep "$sleep_s"
fi
if [ "$fail" = "true" ] || [ "$fail" = "True" ]; then
  echo "sem-exit body failing on purpose" >&2
  exit 7
fi
printf "body-ok" > "$out"
"""],
        args=[out, fail, sleep, pid_dir],
    )


@dsl.container_component
def after_body(text: str, out: OutputPath(str)):
    return dsl.ContainerSpec(
        image="alpine:3",
        command=["sh", "-c", 'printf "after:%s" "$1" > "$0"'],
        args=[out, text],
    )


@dsl.container_component
def cleanup(out: OutputPath(str), text: str = "cleanup-default"):
    return dsl.ContainerSpec(
        image="alpine:3",
        command=["sh", "-c", 'printf "cleanup:%s" "$1" > "$0"'],
        args=[out, text],
    )


@dsl.component(base_image="python:3.11")
def report(status: PipelineTaskFinalStatus, tag: str) -> dict:
    return {
        "tag": tag,
        "state": status.state,
        "pipeline_task_name": status.pipeline_task_name,
        "pipeline_job_resource_name": status.pipeline_job_resource_name,
        "error_code": status.error_code,
        "error_message": status.error_message,
    }


@dsl.pipeline(name="sem-exit")
def exit_pipeline(fail: bool = False, sleep: int = 0, pid_dir: str = "/tmp"):
    final = report(tag="exit-task")
    with dsl.ExitHandler(final):
        b = body(fail=fail, sleep=sleep, pid_dir=pid_dir)
        after_body(text=b.outputs["out"])
        cleanup(text=b.outputs["out"]).ignore_upstream_failure()


if __name__ == "__main__":
    compiler.Compiler().compile(exit_pipeline, sys.argv[1])
