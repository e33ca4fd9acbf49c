"""A step that sleeps long enough to be terminated."""
import sys

from kfp import compiler, dsl


@dsl.container_component
def nap(pidfile: str):
    return dsl.ContainerSpec(image="alpine", command=["sh", "-c", 'echo $$ > "$0"; exec sleep 60'], args=[pidfile])


@dsl.pipeline(name="server-slow")
def pipe(pidfile: str = "/dev/null"):
    nap(pidfile=pidfile)


if __name__ == "__main__":
    compiler.Compiler().compile(pipe, sys.argv[1])
