"""Compiles the benchmark pipelines with the real kfp SDK.

    python pipelines.py KIND N OUT.yaml [PARALLELISM]

KIND is one of:
  chain        N trivial container steps, each running after the previous one
  fanout       N trivial container steps with no dependencies
  parallelfor  one dsl.ParallelFor over a pipeline parameter, a list of N
               strings (its default), with parallelism=PARALLELISM (default 2);
               each iteration runs one trivial container step taking the item

The compiled pipeline is written to OUT.yaml. On stdout goes one JSON
object, {"steps": [ARGV, ...]}: the exact command line weir will run for
each container task (the executor's command followed by its args, read back
from the compiled YAML), in an order that respects the dependencies, so that
a baseline can spawn the very same processes. A root-level loop's iterations
are expanded in item order, the item substituted for the placeholders of the
input parameters that receive it.
"""
import json
import sys

import yaml
from kfp import compiler, dsl


@dsl.container_component
def step():
    # No placeholder anywhere: what weir runs is exactly command + args.
    return dsl.ContainerSpec(
        image="alpine:3",
        command=["sh", "-c", 'echo "$0"'],
        args=["step"],
    )


def chain_pipeline(n):
    @dsl.pipeline(name="bench-chain")
    def pipeline():
        prev = None
        for _ in range(n):
            t = step()
            t.set_caching_options(False)
            if prev is not None:
                t.after(prev)
            prev = t

    return pipeline


def fanout_pipeline(n):
    @dsl.pipeline(name="bench-fanout")
    def pipeline():
        for _ in range(n):
            step().set_caching_options(False)

    return pipeline


@dsl.container_component
def item_step(item: str):
    # The only placeholder is the item: steps() substitutes it, so the
    # baseline still runs exactly what weir runs.
    return dsl.ContainerSpec(
        image="alpine:3",
        command=["sh", "-c", 'echo "$0"'],
        args=[item],
    )


def parallelfor_pipeline(n, parallelism):
    items = [f"item-{i}" for i in range(n)]

    @dsl.pipeline(name="bench-parallelfor")
    def pipeline(items: list = items):
        with dsl.ParallelFor(items=items, parallelism=parallelism) as item:
            item_step(item=item).set_caching_options(False)

    return pipeline


KINDS = {"chain": chain_pipeline, "fanout": fanout_pipeline, "parallelfor": parallelfor_pipeline}


def topo(tasks):
    """The names of a DAG's tasks, upstream first."""
    order, seen = [], set()

    def visit(name):
        if name in seen:
            return
        seen.add(name)
        for up in tasks[name].get("dependentTasks", []):
            visit(up)
        order.append(name)

    for name in sorted(tasks):
        visit(name)
    return order


def loop_items(doc, task):
    """The items a root-level ParallelFor task iterates over: a raw list, or
    a pipeline parameter's default."""
    it = task["parameterIterator"]["items"]
    if "raw" in it:
        return json.loads(it["raw"])
    src = task["inputs"]["parameters"][it["inputParameter"]]
    param = src.get("componentInputParameter")
    if param is None:
        raise SystemExit("a loop over anything but a raw list or a pipeline parameter is not supported")
    return doc["root"]["inputDefinitions"]["parameters"][param]["defaultValue"]


def argv(doc, name, task, item_input=None, item=None):
    """A container task's command line, with the loop item substituted for
    the placeholders of the input parameters bound to item_input."""
    comp = doc["components"][task["componentRef"]["name"]]
    if "executorLabel" not in comp:
        raise SystemExit(f"task {name} is not a container task")
    container = doc["deploymentSpec"]["executors"][comp["executorLabel"]].get("container")
    if container is None:
        raise SystemExit(f"task {name} is not a container task")
    line = list(container.get("command", [])) + list(container.get("args", []))
    if item_input is None:
        return line
    value = item if isinstance(item, str) else json.dumps(item)
    for pname, src in task.get("inputs", {}).get("parameters", {}).items():
        if src.get("componentInputParameter") == item_input:
            ph = "{{$.inputs.parameters['%s']}}" % pname
            line = [a.replace(ph, value) for a in line]
    return line


def steps(doc):
    """The argv of every container task of the root DAG, upstream first; a
    root-level ParallelFor contributes its body's container tasks once per
    item."""
    tasks = doc["root"]["dag"]["tasks"]
    out = []
    for name in topo(tasks):
        task = tasks[name]
        if "parameterIterator" not in task:
            out.append(argv(doc, name, task))
            continue
        body = doc["components"][task["componentRef"]["name"]]["dag"]["tasks"]
        item_input = task["parameterIterator"]["itemInput"]
        for item in loop_items(doc, task):
            for child in topo(body):
                out.append(argv(doc, f"{name}/{child}", body[child], item_input, item))
    return out


def main():
    if len(sys.argv) not in (4, 5) or sys.argv[1] not in KINDS:
        raise SystemExit(__doc__)
    kind, n, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    if kind == "parallelfor":
        pipeline = parallelfor_pipeline(n, int(sys.argv[4]) if len(sys.argv) == 5 else 2)
    elif len(sys.argv) == 5:
        raise SystemExit(f"PARALLELISM applies to parallelfor only\n{__doc__}")
    else:
        pipeline = KINDS[kind](n)
    compiler.Compiler().compile(pipeline, out)
    with open(out) as f:
        doc = yaml.safe_load(f)
    json.dump({"steps": steps(doc)}, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
