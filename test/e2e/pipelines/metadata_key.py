"""The input artifact metadata placeholder with a key, which kfp 2.17 emits
for `artifact.metadata["key"]` in a container component:
{{$.inputs.artifacts['x'].metadata['key']}}. kfp.local renders a string
value verbatim and anything else as JSON."""
import sys

from kfp import compiler, dsl
from kfp.dsl import Artifact, Input, Output, OutputPath


@dsl.component(base_image="python:3.11")
def tag(out: Output[Artifact]):
    with open(out.path, "w") as f:
        f.write("tagged body")
    out.metadata["stage"] = "tagged"
    out.metadata["n"] = 2
    out.metadata["labels"] = ["a", "b"]


@dsl.container_component
def read_keys(art: Input[Artifact], got: OutputPath(str)):
    return dsl.ContainerSpec(
        image="alpine:3",
        command=["sh", "-c", r"""printf '%s|%s|%s' "$1" "$2" "$3" > "$0" """],
        args=[got, art.metadata["stage"], art.metadata["n"], art.metadata["labels"]],
    )


@dsl.pipeline(name="metadata-key")
def metadata_key_pipeline():
    t = tag()
    read_keys(art=t.outputs["out"])


if __name__ == "__main__":
    compiler.Compiler().compile(metadata_key_pipeline, sys.argv[1])
