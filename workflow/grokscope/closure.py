"""The package code a pipeline step runs: its module closure, and a hash of it.

A step's process runs ``python -m grokscope <step>``: the package ``__init__`` and
``__main__``, :mod:`grokscope.cli` with its module-level imports, :mod:`grokscope.process`,
then ``grokscope.steps.<step>`` and every package module it imports, transitively (the CLI's
project commands import other modules inside their functions; a step never runs those).
Imports are read from the source (every ``import`` of a ``grokscope`` module, inside
functions too), not executed, so this is quick and safe to run while Snakemake parses the
workflow. ``grokscope dvc-yaml`` lists the closure as each DVC
stage's code dependencies; the Snakefile passes :func:`code_hash` to each rule as a param, so
Snakemake's params trigger reruns a job whose code changed. Both tools therefore call a step
stale for the same code changes.
"""

from __future__ import annotations

import ast
import hashlib
from functools import cache
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
# What every step's process runs before the step module itself.
ENTRY = ["grokscope.__main__", "grokscope.cli", "grokscope.process"]


def module_path(module: str) -> Path:
    """``grokscope.steps.neurons`` → its file, relative to the package directory."""
    parts = module.split(".")[1:]
    path = Path(*parts) if parts else Path()
    return path / "__init__.py" if (PACKAGE_DIR / path).is_dir() else path.with_suffix(".py")


@cache
def _imports(module: str) -> frozenset[str]:
    """The ``grokscope`` modules ``module`` imports (anywhere in its source; only at module
    level for the entry modules and the package ``__init__``), with the packages that
    contain them (Python runs their ``__init__`` too).

    The package ``__init__`` imports the notebook API (``grokscope.open_run``) inside its
    module ``__getattr__``, which runs only when someone asks for that attribute; no step
    does (``tests/test_structure.py``).
    """
    tree = ast.parse((PACKAGE_DIR / module_path(module)).read_text())
    nodes = tree.body if module in ENTRY or module == "grokscope" else ast.walk(tree)
    found = set()
    for node in nodes:
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
            # `from grokscope.plots import common` imports the submodule grokscope.plots.common
            names += [f"{node.module}.{a.name}" for a in node.names]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        else:
            continue
        for name in names:
            if name.split(".")[0] == "grokscope" and (PACKAGE_DIR / module_path(name)).exists():
                parts = name.split(".")
                found |= {".".join(parts[:i]) for i in range(1, len(parts) + 1)}
    return frozenset(found)


@cache
def step_closure(step: str) -> tuple[Path, ...]:
    """Every package file that ``grokscope <step>`` can execute, relative to the package
    directory, sorted."""
    todo = [*ENTRY, f"grokscope.steps.{step}"]
    if not (PACKAGE_DIR / module_path(todo[-1])).exists():
        raise ValueError(f"no pipeline step {step!r} (no module grokscope.steps.{step})")
    seen: set[str] = set()
    while todo:
        module = todo.pop()
        if module not in seen:
            seen.add(module)
            todo += sorted(_imports(module) - seen)
    return tuple(sorted(module_path(m) for m in seen | {"grokscope"}))


def code_hash(step: str) -> str:
    """SHA-256 over the paths and contents of :func:`step_closure` (hex, 16 characters)."""
    digest = hashlib.sha256()
    for path in step_closure(step):
        digest.update(str(path).encode() + b"\0" + (PACKAGE_DIR / path).read_bytes() + b"\0")
    return digest.hexdigest()[:16]
