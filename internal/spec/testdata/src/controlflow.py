"""Control-flow constructs compiled into spec golden inputs."""
import sys
from typing import List
from kfp import dsl, compiler
from kfp.dsl import Input, Output, Dataset, Artifact


@dsl.component(base_image="python:3.11")
def flip() -> int:
    return 3


@dsl.component(base_image="python:3.11")
def echo(msg: str) -> str:
    return msg


@dsl.component(base_image="python:3.11")
def make_list() -> List[dict]:
    return [{"a": 1}, {"a": 2}]


@dsl.component(base_image="python:3.11")
def make_ds(out: Output[Dataset]):
    open(out.path, "w").write("x")


@dsl.component(base_image="python:3.11")
def use_ds(ds: Input[Dataset]) -> str:
    return open(ds.path).read()


@dsl.component(base_image="python:3.11")
def total(vals: List[str]) -> int:
    return len(vals)


@dsl.component(base_image="python:3.11")
def count_ds(dss: Input[List[Dataset]]) -> int:
    return len(dss)


@dsl.component(base_image="python:3.11")
def final(status: dsl.PipelineTaskFinalStatus) -> str:
    return status.state


@dsl.pipeline
def inner(msg: str) -> str:
    return echo(msg=msg).output


@dsl.pipeline(name="controlflow")
def pipe(items: list = [1, 2, 3], threshold: int = 2):
    exit_task = final()
    with dsl.ExitHandler(exit_task):
        f = flip()
        with dsl.If(f.output > threshold):
            echo(msg="big")
        with dsl.Elif(f.output == threshold):
            echo(msg="eq")
        with dsl.Else():
            echo(msg="small")
        with dsl.ParallelFor(items, parallelism=2) as it:
            e = echo(msg=f"item {it}").set_retry(num_retries=2, backoff_duration="1s", backoff_factor=2, backoff_max_duration="10s")
        total(vals=dsl.Collected(e.output))
        ml = make_list()
        with dsl.ParallelFor(ml.output) as d:
            echo(msg=d.a)
        with dsl.ParallelFor([1, 2]) as x:
            m = make_ds()
        count_ds(dss=dsl.Collected(m.outputs["out"]))
        n = inner(msg="nested")
        echo(msg=n.output).set_caching_options(False)
        imp = dsl.importer(artifact_uri="/tmp/x.csv", artifact_class=Dataset, reimport=True, metadata={"k": "v"})
        use_ds(ds=imp.output)
        with dsl.If(f.output > 0):
            a = echo(msg="a")
        with dsl.Else():
            b = echo(msg="b")
        echo(msg=dsl.OneOf(a.output, b.output))
        echo(msg="after").after(f).ignore_upstream_failure()


if __name__ == "__main__":
    compiler.Compiler().compile(pipe, sys.argv[1])
