import sys
from kfp import dsl, compiler, kubernetes
@dsl.container_component
def w():
    return dsl.ContainerSpec(image="alpine", command=["sleep", "5"])
@dsl.pipeline(name="to")
def p():
    t = w()
    kubernetes.set_timeout(t, 2)
compiler.Compiler().compile(p, sys.argv[1])
