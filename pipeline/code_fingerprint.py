"""The fingerprint of the code each pipeline node runs, put where its cache key sees it.

TFX's cache key (LocalDagRunner's and KFP's) covers a node's inputs, its exec properties and
its executor's class *name*, never the code behind it: TFX adds only the top-level files of a
module file's folder (the Trainer's wheel). Edit tinyface/data/degradation/degrade.py and PairGen, the
Trainer and everything after them would be served from cache. So every node that runs our code
gets, as an exec property (the Trainer: in its custom_config, which run_fn also sees), a sha256
over the source of exactly the modules of ours that node can import, found by following import
statements (AST, so imports inside functions count too) from what the node runs:

- its executor's and driver's classes,
- module paths and module files its exec properties name (the Trainer's run_fn / module_file),
- custom metric modules its EvalConfig names (the Evaluator runs tinyface's TFMA metrics),
- files its exec properties name (ImportSchemaGen's schema), by content.

A closure rather than one hash of all our code: an edit re-runs the node it touches and
what is downstream of it, and leaves the rest cached. Nodes that run none of our code (TFX's
StatisticsGen and ExampleValidator; locally also its DistributionValidator) get nothing: their
inputs already change when ours do. Resolvers are not cached, so they get nothing either.

The hash is over paths relative to the package folders and file contents, so a copy of the
checkout elsewhere has the same fingerprints. It is computed where the pipeline is built: for
Kubeflow, on the compiling machine's checkout, which must be the code the image was built from
(name the image by digest: kubeflow/settings.py).
"""

import ast
import hashlib
import importlib.util
import os
import re
from typing import Dict, Iterable, List, Mapping, Optional, Sequence, Set

from google.protobuf import message
from tfx.dsl.components.base import base_component
from tfx.types import standard_component_specs
from tfx.utils import json_utils

from tinyface.pipeline import configs

# Our packages with a folder of their own (setup.py's package_dir) whose code a fingerprint covers.
OUR_PACKAGES = ("tinyface", "tinyface.components", "tinyface.trainer", "tinyface.pipeline",
                "tinyface.kubeflow", "tinyface.cli")
# The exec property holding the fingerprint; the Trainer's is a key of its custom_config.
CODE_FINGERPRINT_KEY = "tinyface_code_fingerprint"

_MODULE_PATH = re.compile(r"(?<![\w.])(?:%s)(?:\.[A-Za-z_]\w*)+" % "|".join(
    sorted({package.split(".")[0] for package in OUR_PACKAGES})))


def package_folders(packages: Sequence[str] = OUR_PACKAGES) -> Dict[str, str]:
    """{package: its folder}, where Python imports it from (the checkout on PYTHONPATH, or
    site-packages), without importing it."""
    folders = {}
    for name in packages:
        spec = importlib.util.find_spec(name)
        if spec is None or not spec.submodule_search_locations:
            raise ImportError(f"package {name!r} not found: cannot fingerprint its code")
        folders[name] = list(spec.submodule_search_locations)[0]
    return folders


class CodeIndex:
    """Finds the source files of our modules under `folders` ({package: folder}) and the
    closure of their imports; parses each file once."""

    def __init__(self, folders: Mapping[str, str]):
        # The most specific package first: tinyface.pipeline lives in pipeline/, not tinyface/.
        self._folders = dict(sorted(folders.items(), key=lambda item: -item[0].count(".")))
        self._imports: Dict[str, List[str]] = {}

    def module_file(self, module: str) -> Optional[str]:
        """The source file of `module` if it is one of ours (package: its __init__.py)."""
        for package, folder in self._folders.items():
            if module == package or module.startswith(package + "."):
                rest = module[len(package):].lstrip(".")
                base = os.path.join(folder, *rest.split(".")) if rest else folder
                for path in (base + ".py", os.path.join(base, "__init__.py")):
                    if os.path.isfile(path):
                        return path
                return None
        return None

    def module_of_file(self, path: str) -> Optional[str]:
        """The dotted name of a source file inside one of our packages, else None."""
        path = os.path.abspath(path)
        for package, folder in self._folders.items():
            relative = os.path.relpath(path, os.path.abspath(folder))
            if not relative.startswith(os.pardir) and relative.endswith(".py"):
                parts = [package, *relative[:-len(".py")].split(os.sep)]
                return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        return None

    def relative_name(self, path: str) -> str:
        """A name for `path` that is the same in any copy: for a module of ours its path as
        installed (tinyface/pipeline/configs.py, from a checkout's pipeline/configs.py too),
        else the path relative to the folder holding our packages."""
        module = self.module_of_file(path)
        if module:
            return "/".join(module.split(".")) + ("/__init__.py" if os.path.basename(path) == "__init__.py" else ".py")
        for folder in self._folders.values():
            parent = os.path.dirname(os.path.abspath(folder))
            relative = os.path.relpath(os.path.abspath(path), parent)
            if not relative.startswith(os.pardir):
                return relative.replace(os.sep, "/")
        return os.path.basename(path)

    def _imported_names(self, path: str, module: Optional[str]) -> List[str]:
        if path not in self._imports:
            with open(path, "rb") as f:
                tree = ast.parse(f.read(), filename=path)
            is_package = os.path.basename(path) == "__init__.py"
            names = []
            for node in ast.walk(tree):
                if isinstance(node, ast.Import):
                    names.extend(alias.name for alias in node.names)
                elif isinstance(node, ast.ImportFrom):
                    base = _absolute(node, module, is_package)
                    if base:
                        names.append(base)
                        # `from package import name`: name may be a submodule.
                        names.extend(f"{base}.{alias.name}" for alias in node.names if alias.name != "*")
            self._imports[path] = names
        return self._imports[path]

    def closure(self, modules: Iterable[str] = (), files: Iterable[str] = ()) -> Set[str]:
        """Source files of ours that importing `modules` and the source `files` can run:
        their own, every module they import (transitively) and the packages above each."""
        seen: Set[str] = set()
        pending = [(self.module_file(name), name) for name in modules]
        pending += [(path, self.module_of_file(path)) for path in files]
        while pending:
            path, module = pending.pop()
            if path is None or path in seen:
                continue
            seen.add(path)
            names = list(self._imported_names(path, module))
            if module:   # importing a.b.c runs a/__init__.py and a/b/__init__.py first
                parts = module.split(".")
                names += [".".join(parts[:i]) for i in range(1, len(parts))]
            pending += [(self.module_file(name), name) for name in names]
        return seen

    def fingerprint(self, sources: Iterable[str], data_files: Iterable[str] = ()) -> str:
        """sha256 over each file's relative name and bytes, in sorted order."""
        digest = hashlib.sha256()
        entries = sorted({(self.relative_name(path), path) for path in [*sources, *data_files]})
        for name, path in entries:
            with open(path, "rb") as f:
                digest.update(name.encode() + b"\0" + f.read() + b"\0")
        return f"sha256:{digest.hexdigest()}"


def _absolute(node: ast.ImportFrom, module: Optional[str], is_package: bool) -> Optional[str]:
    """The absolute module name of a `from ... import` statement (relative ones resolved)."""
    if not node.level:
        return node.module
    if not module:
        return None
    parts = module.split(".") if is_package else module.split(".")[:-1]
    parts = parts[:len(parts) - (node.level - 1)] if node.level > 1 else parts
    return ".".join(parts + ([node.module] if node.module else [])) or None


def _class_modules(node) -> List[str]:
    """Modules defining the node's executor and driver classes (and the classes they extend)."""
    classes = [getattr(node.executor_spec, "executor_class", None), getattr(node, "driver_class", None)]
    return [cls.__module__ for root in classes if root is not None for cls in root.__mro__]


def _exec_property_roots(value, index: CodeIndex):
    """(modules, source files, data files) an exec property value names: a file path, or
    module paths of ours anywhere in its text (a run_fn, an EvalConfig's metric modules)."""
    if isinstance(value, message.Message):
        value = str(value)
    if not isinstance(value, str):
        return [], [], []   # numbers; RuntimeParameters (their values cannot name code)
    path = _checkout_path(value)
    if os.path.isfile(path):
        return ([], [path], []) if path.endswith(".py") else ([], [], [path])
    modules = []
    for match in _MODULE_PATH.finditer(value):
        # "package.module.function": the longest prefix that is a module.
        parts = match.group(0).split(".")
        modules += [".".join(parts[:i]) for i in range(len(parts), 0, -1) if index.module_file(".".join(parts[:i]))][:1]
    return modules, [], []


def _checkout_path(path: str) -> str:
    """`path`, or for a path inside the pipeline image (the Dockerfile copies this checkout to
    configs.KUBEFLOW_IMAGE_REPO_DIR) the same file in this checkout."""
    image_root = configs.KUBEFLOW_IMAGE_REPO_DIR.rstrip("/") + "/"
    if path.startswith(image_root):
        return os.path.join(configs.REPO_ROOT, *path[len(image_root):].split("/"))
    return path


def node_code_fingerprint(node, index: CodeIndex) -> Optional[str]:
    """The fingerprint of our code `node` runs, or None when it runs none."""
    modules, sources, data = _class_modules(node), [], []
    for value in node.exec_properties.values():
        found = _exec_property_roots(value, index)
        modules, sources, data = modules + found[0], sources + found[1], data + found[2]
    closure = index.closure(modules, sources)
    if not closure and not data:
        return None
    return index.fingerprint(closure, data)


def attach(nodes: Iterable, index: Optional[CodeIndex] = None) -> Dict[str, str]:
    """Puts each component's code fingerprint into its exec properties (a Trainer's into its
    custom_config); returns {node id: fingerprint} of the nodes that got one."""
    index = index or CodeIndex(package_folders())
    attached = {}
    for node in nodes:
        if not isinstance(node, base_component.BaseComponent):
            continue   # resolvers: never cached
        fingerprint = node_code_fingerprint(node, index)
        if fingerprint is None:
            continue
        properties = node.exec_properties
        if isinstance(node.spec, standard_component_specs.TrainerSpec):
            properties[standard_component_specs.CUSTOM_CONFIG_KEY] = _with_fingerprint(
                properties[standard_component_specs.CUSTOM_CONFIG_KEY], fingerprint)
        else:
            properties[CODE_FINGERPRINT_KEY] = fingerprint
        attached[node.id] = fingerprint
    return attached


def _with_fingerprint(custom_config_json: str, fingerprint: str) -> str:
    return json_utils.dumps({**json_utils.loads(custom_config_json), CODE_FINGERPRINT_KEY: fingerprint})
