from typing import NamedTuple, List, Dict
from kfp import dsl, compiler
from kfp.dsl import Input, Output, Dataset, Model, Metrics, ClassificationMetrics, Artifact

@dsl.component(base_image="python:3.11", packages_to_install=["numpy"])
def prep(n: int, ratio: float, flag: bool, name: str, items: list, cfg: dict, out: Output[Dataset]) -> NamedTuple('O', [('count', int), ('label', str)]):
    with open(out.path, 'w') as f: f.write("a,b\n1,2\n")
    out.metadata['rows'] = 1
    O = NamedTuple('O', [('count', int), ('label', str)])
    return O(n, name)

@dsl.component
def train(data: Input[Dataset], count: int, model: Output[Model], metrics: Output[Metrics]) -> float:
    return 0.5

@dsl.container_component
def echo(msg: str, opt: str, data: Input[Dataset], outp: dsl.OutputPath(str), art: Output[Artifact]):
    return dsl.ContainerSpec(image="alpine", command=["sh", "-c"], args=[dsl.ConcatPlaceholder(["x", msg, "y"]), dsl.IfPresentPlaceholder(input_name="opt", then=["--opt", opt], else_=["--noopt"]), data.path, data.uri, outp, art.path, dsl.PIPELINE_JOB_NAME_PLACEHOLDER, dsl.PIPELINE_TASK_NAME_PLACEHOLDER, dsl.PIPELINE_ROOT_PLACEHOLDER, dsl.PIPELINE_JOB_ID_PLACEHOLDER])

@dsl.pipeline(name="sample", description="d")
def pipe(n: int = 3, ratio: float = 0.5, flag: bool = True, name: str = "x", items: list = [1,2], cfg: dict = {"a": 1}, req: str = None):
    p = prep(n=n, ratio=ratio, flag=flag, name=name, items=items, cfg=cfg)
    t = train(data=p.outputs['out'], count=p.outputs['count']).set_cpu_limit("1").set_memory_limit("1G").set_env_variable("A","B")
    t.set_caching_options(False)
    e = echo(msg=f"hello {p.outputs['label']} there", opt=name, data=p.outputs['out'])
    e.after(t)

import sys
compiler.Compiler().compile(pipe, sys.argv[1])
