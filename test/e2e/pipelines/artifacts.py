"""Artifact passing: Dataset -> Model -> report, with metadata set by each
producer and read back by its consumer, plus InputPath/OutputPath artifacts."""
import sys
from typing import NamedTuple

from kfp import compiler, dsl
from kfp.dsl import Dataset, Input, InputPath, Model, Output, OutputPath


@dsl.component(base_image="python:3.11")
def make_data(rows: int, data: Output[Dataset]):
    with open(data.path, "w") as f:
        f.write("x,y\n")
        for i in range(rows):
            f.write(f"{i},{i * i}\n")
    data.metadata["rows"] = rows
    data.metadata["source"] = "e2e-generator"
    data.metadata["columns"] = ["x", "y"]


@dsl.component(base_image="python:3.11")
def train(
    data: Input[Dataset],
    model: Output[Model],
) -> NamedTuple("Outputs", [("content", str), ("rows", str),
                            ("source", str), ("uri", str), ("meta", dict)]):
    from collections import namedtuple

    with open(data.path) as f:
        content = f.read()
    rows = data.metadata["rows"]
    with open(model.path, "w") as f:
        f.write(f"model trained on {rows!r} rows from {data.metadata['source']}")
    model.metadata["framework"] = "none"
    model.metadata["rows_seen"] = rows
    out = namedtuple("Outputs", ["content", "rows", "source", "uri", "meta"])
    # rows is returned as its repr: 3 and 3.0 must be told apart.
    return out(content, repr(rows), data.metadata["source"], data.uri,
               dict(data.metadata))


@dsl.component(base_image="python:3.11")
def inspect_model(model: Input[Model], summary: OutputPath("Markdown")) -> str:
    with open(model.path) as f:
        text = f.read()
    with open(summary, "w") as f:
        f.write(f"# {model.metadata['framework']}\n{text}\n")
    return f"{model.metadata['framework']}:{text}"


@dsl.component(base_image="python:3.11")
def read_summary(summary: InputPath("Markdown")) -> str:
    with open(summary) as f:
        return f.read()


@dsl.pipeline(name="artifacts")
def artifacts_pipeline(rows: int = 3):
    d = make_data(rows=rows)
    t = train(data=d.outputs["data"])
    i = inspect_model(model=t.outputs["model"])
    read_summary(summary=i.outputs["summary"])


if __name__ == "__main__":
    compiler.Compiler().compile(artifacts_pipeline, sys.argv[1])
