"""dsl.importer: a constant URI (the test rewrites the placeholder path in
the compiled YAML to a file it wrote), a URI from a pipeline parameter, with
metadata (constant and from a parameter), reimport=False and True."""
import sys

from kfp import compiler, dsl
from kfp.dsl import Dataset, Input, OutputPath

CONST_URI = "/weir-e2e-placeholder/const-import.txt"


@dsl.container_component
def read_it(data: Input[Dataset], out: OutputPath(str)):
    return dsl.ContainerSpec(
        image="alpine:3",
        command=["sh", "-c",
                 'printf "%s|%s|%s" "$(cat "$1")" "$2" "$3" > "$0"'],
        args=[out, data.path, data.uri, data.metadata],
    )


@dsl.pipeline(name="sem-importer")
def importer_pipeline(fresh_uri: str = "/nonexistent",
                      kept_uri: str = "/nonexistent", owner: str = "nobody"):
    const = dsl.importer(
        artifact_uri=CONST_URI,
        artifact_class=dsl.Dataset,
        reimport=False,
        metadata={"origin": "constant", "rows": 2},
    )
    read_it(data=const.output)

    fresh = dsl.importer(
        artifact_uri=fresh_uri,
        artifact_class=dsl.Dataset,
        reimport=True,
        metadata={"origin": "fresh", "owner": owner},
    )
    read_it(data=fresh.output)

    kept = dsl.importer(
        artifact_uri=kept_uri,
        artifact_class=dsl.Dataset,
        reimport=False,
        metadata={"origin": "kept", "owner": owner},
    )
    read_it(data=kept.output)


if __name__ == "__main__":
    compiler.Compiler().compile(importer_pipeline, sys.argv[1])
