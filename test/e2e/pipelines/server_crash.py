"""A chain of steps for the crash test: each step logs when it starts and
ends (to check that two attempts of a task never overlap) and writes its
output artifact in two pieces with a pause between them."""
import sys

from kfp import compiler, dsl
from kfp.dsl import Dataset, Input, Output

SCRIPT = r'''
set -e
log="$0/$1.log"
echo "start $(date +%s.%N)" >> "$log"
prev=""
if [ -n "$3" ]; then prev=$(cat "$3"); fi
sleep 0.3
mkdir -p "$(dirname "$2")"
printf '%s[%s:' "$prev" "$1" > "$2"
sleep 0.2
printf 'done]' >> "$2"
echo "end $(date +%s.%N)" >> "$log"
'''


@dsl.container_component
def first(dir: str, out: Output[Dataset]):
    return dsl.ContainerSpec(image="alpine", command=["sh", "-c", SCRIPT], args=[dir, "first", out.path, ""])


@dsl.container_component
def step(dir: str, name: str, prev: Input[Dataset], out: Output[Dataset]):
    return dsl.ContainerSpec(image="alpine", command=["sh", "-c", SCRIPT], args=[dir, name, out.path, prev.path])


@dsl.pipeline(name="server-crash")
def pipe(dir: str):
    a = first(dir=dir)
    b = step(dir=dir, name="second", prev=a.outputs["out"])
    c = step(dir=dir, name="third", prev=b.outputs["out"])
    step(dir=dir, name="fourth", prev=c.outputs["out"])


if __name__ == "__main__":
    compiler.Compiler().compile(pipe, sys.argv[1])
