"""Container components exercising every placeholder kind kfp emits.

The image is ignored by weir: commands run on the host and use only POSIX
tools (sh, printf, cat). The `report` artifact receives one line per
argument, so the test can check exactly what each placeholder became.
"""
import sys
from typing import Optional

from kfp import compiler, dsl
from kfp.dsl import Artifact, Dataset, Input, Output, OutputPath

REPORT_SCRIPT = r"""
set -e
report="$1"; out="$2"; data="$3"; shift 3
for a in "$@"; do printf 'arg=%s\n' "$a"; done > "$report"
printf 'argc=%s\n' "$#" >> "$report"
printf 'data_content=%s\n' "$(cat "$data")" >> "$report"
printf 'env=%s|%s\n' "$WEIR_E2E_ENV" "$WEIR_E2E_ENV2" >> "$report"
printf '%s' "text-out:$WEIR_E2E_ENV" > "$out"
echo "report for $#:"
cat "$report"
"""


@dsl.container_component
def make_name(name: OutputPath(str)):
    return dsl.ContainerSpec(
        image="alpine:3",
        command=["sh", "-c", 'printf "%s" world > "$0"'],
        args=[name],
    )


@dsl.component(base_image="python:3.11")
def make_data(data: Output[Dataset]):
    with open(data.path, "w") as f:
        f.write("payload-123")
    data.metadata["kind"] = "demo"
    data.metadata["size"] = 11


@dsl.container_component
def report(
    greeting: str,
    count: int,
    ratio: float,
    flag: bool,
    items: list,
    conf: dict,
    data: Input[Dataset],
    text_out: OutputPath(str),
    report: Output[Artifact],
    suffix: Optional[str] = None,
):
    return dsl.ContainerSpec(
        image="alpine:3",
        command=["sh", "-c", REPORT_SCRIPT, "report"],
        args=[
            report.path,
            text_out,
            data.path,
            greeting,
            f"count={count}",
            f"ratio={ratio}",
            f"flag={flag}",
            f"items={items}",
            f"conf={conf}",
            f"data_path={data.path}",
            f"data_uri={data.uri}",
            f"data_metadata={data.metadata}",
            f"report_uri={report.uri}",
            dsl.ConcatPlaceholder(["concat=", greeting, "+", count]),
            dsl.ConcatPlaceholder([
                "concat_ifpresent=",
                dsl.IfPresentPlaceholder(
                    input_name="suffix", then=suffix, else_="none"),
            ]),
            dsl.IfPresentPlaceholder(
                input_name="suffix",
                then=["--suffix", suffix],
                else_=["--no-suffix"],
            ),
            f"job_name={dsl.PIPELINE_JOB_NAME_PLACEHOLDER}",
            f"job_id={dsl.PIPELINE_JOB_ID_PLACEHOLDER}",
            f"task_name={dsl.PIPELINE_TASK_NAME_PLACEHOLDER}",
            f"task_id={dsl.PIPELINE_TASK_ID_PLACEHOLDER}",
            f"root={dsl.PIPELINE_ROOT_PLACEHOLDER}",
        ],
    )


@dsl.pipeline(name="container")
def container_pipeline(
    greeting: str = "hi there",
    count: int = 3,
    suffix: str = "sfx",
    maybe: Optional[str] = None,
):
    name = make_name()
    data = make_data()
    with_suffix = report(
        greeting=greeting,
        count=count,
        ratio=0.5,
        flag=True,
        items=["a", "b c"],
        conf={"k": "v"},
        data=data.outputs["data"],
        suffix=suffix,
    )
    with_suffix.set_env_variable("WEIR_E2E_ENV", "env value 1")
    with_suffix.set_env_variable("WEIR_E2E_ENV2", "second=2")
    # An f-string constant embedding an upstream output, and no suffix: the
    # IfPresent placeholders take their else branch.
    without_suffix = report(
        greeting=f"hello {name.output}",
        count=count,
        ratio=0.5,
        flag=False,
        items=[],
        conf={},
        data=data.outputs["data"],
    )
    without_suffix.set_env_variable("WEIR_E2E_ENV", "env value 2")
    # The suffix is wired to an optional pipeline parameter without a
    # default: present only when the run supplies `maybe`.
    report(
        greeting="third",
        count=-1,
        ratio=1.5,
        flag=True,
        items=[1.5],
        conf={"a": "b"},
        data=data.outputs["data"],
        suffix=maybe,
    )


if __name__ == "__main__":
    compiler.Compiler().compile(container_pipeline, sys.argv[1])
