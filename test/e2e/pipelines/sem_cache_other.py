"""The sem_cache pipeline under another name: a different pipeline that
runs the same steps with the same inputs shares their cached results."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from kfp import compiler, dsl  # noqa: E402

from sem_cache import build  # noqa: E402


@dsl.pipeline(name="sem-cache-other")
def cache_other_pipeline(dir: str = "/tmp", seed: str = "a"):
    build(dir, seed)


if __name__ == "__main__":
    compiler.Compiler().compile(cache_other_pipeline, sys.argv[1])
