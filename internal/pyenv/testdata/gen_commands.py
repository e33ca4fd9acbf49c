"""Regenerates kfp-2.17.3-commands.json.

Compiles one lightweight component per packaging option of @dsl.component
with the installed kfp SDK and records each executor's image, command and
args exactly as the compiled pipeline spec holds them.

    python gen_commands.py > kfp-2.17.3-commands.json
"""
import json
import os
import sys
import tempfile

import kfp
import yaml
from kfp import compiler, dsl

variants = {}


def add(name, **kw):

    @dsl.component(**kw)
    def add_one(x: int) -> int:
        return x + 1

    variants[name] = add_one


add("plain")
add("packages", packages_to_install=[
    "numpy", "pandas>=2,<3", "requests[socks]==2.32.3",
    'six; python_version>="3"'
])
add("index_one", packages_to_install=["numpy"],
    pip_index_urls=["https://pypi.org/simple"])
add("index_many", packages_to_install=["numpy"],
    pip_index_urls=["https://pypi.org/simple", "https://example.com/simple"])
add("index_kfp_only", pip_index_urls=["https://pypi.org/simple"])
add("trusted_hosts", packages_to_install=["numpy"],
    pip_index_urls=["https://pypi.org/simple", "http://mirror.local:8080/simple"],
    pip_trusted_hosts=["mirror.local", "pypi.org"])
add("trusted_hosts_empty", packages_to_install=["numpy"],
    pip_index_urls=["https://pypi.org/simple"], pip_trusted_hosts=[])
add("use_venv", use_venv=True)
add("use_venv_packages", use_venv=True, packages_to_install=["six"])
add("kfp_package_path",
    kfp_package_path="git+https://github.com/kubeflow/pipelines.git@master#subdirectory=sdk/python")
add("kfp_package_path_pr",
    kfp_package_path="git+https://github.com/kubeflow/pipelines.git@refs/pull/1/head#subdirectory=sdk/python")
add("no_kfp", install_kfp_package=False)
add("no_kfp_packages", install_kfp_package=False, packages_to_install=["six"])
add("kfp_in_packages", packages_to_install=["kfp==2.17.3", "six"])
add("base_image", base_image="python:3.12")
add("target_image", target_image="example.com/img:1")
add("quotes", packages_to_install=["it's", 'a"b', "x y", "back\\slash", "$HOME"])
add("quotes_expand", packages_to_install=["it's $HOME"])


@dsl.component(packages_to_install=["six==1.17.0"])
def greet(name: str) -> str:
    import six
    return f"hello {name} from six {six.__version__}"


variants["six_component"] = greet

out = {"kfp_version": kfp.__version__, "components": {}}
with tempfile.TemporaryDirectory() as tmp:
    for name, comp in variants.items():
        path = os.path.join(tmp, name + ".yaml")
        compiler.Compiler().compile(comp, path)
        with open(path) as f:
            spec = yaml.safe_load(f)
        (executor,) = spec["deploymentSpec"]["executors"].values()
        c = executor["container"]
        out["components"][name] = {
            "image": c["image"],
            "command": c.get("command", []),
            "args": c.get("args", []),
        }
json.dump(out, sys.stdout, indent=1, sort_keys=True)
sys.stdout.write("\n")
