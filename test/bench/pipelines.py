"""Compiles the benchmark pipelines with the real kfp SDK.

    python pipelines.py KIND N OUT.yaml

KIND is one of:
  chain   N trivial container steps, each running after the previous one
  fanout  N trivial container steps with no dependencies

The compiled pipeline is written to OUT.yaml. On stdout goes one JSON
object, {"steps": [ARGV, ...]}: the exact command line weir will run for
each container task (the executor's command followed by its args, read back
from the compiled YAML), in an order that respects the dependencies, so that
a baseline can spawn the very same processes.
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


KINDS = {"chain": chain_pipeline, "fanout": fanout_pipeline}


def steps(doc):
    """The argv of every container task of the root DAG, upstream first."""
    executors = doc["deploymentSpec"]["executors"]
    components = doc["components"]
    tasks = doc["root"]["dag"]["tasks"]
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
    out = []
    for name in order:
        comp = components[tasks[name]["componentRef"]["name"]]
        container = executors[comp["executorLabel"]].get("container")
        if container is None:
            raise SystemExit(f"task {name} is not a container task")
        out.append(list(container.get("command", [])) + list(container.get("args", [])))
    return out


def main():
    if len(sys.argv) != 4 or sys.argv[1] not in KINDS:
        raise SystemExit(__doc__)
    kind, n, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    compiler.Compiler().compile(KINDS[kind](n), out)
    with open(out) as f:
        doc = yaml.safe_load(f)
    json.dump({"steps": steps(doc)}, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
