"""Where the DVC pipeline lives: ``dvc.yaml`` at the project root and one
``pipelines/<experiment>/dvc.yaml`` per experiment (or sweep), each with its ``dvc.lock``.

Why more than one file: after every stage it runs, DVC rewrites that stage's ``dvc.lock``
whole, parsing it with a round-trip YAML loader (pure Python, to keep its layout) and dumping
it again; the cost grows with the lock file, and a suite's lock, with every stage's code
dependencies, is large. With one lock per experiment, a stage rewrites only its own
experiment's. ``grokscope dvc-yaml`` (:mod:`grokscope.dvcgen`) decides which file a stage goes
in; this module reads and writes them. Stage names are unique across the files.

``dvc repro`` and ``dvc exp run`` without a target build the root ``dvc.yaml``'s stages and
everything upstream of them, so the root file holds every stage that no other stage reads
from (the report, each run's headline, …): every other stage is upstream of one of those.
Other DVC commands (``dvc status``, ``dvc push``/``pull``, ``dvc metrics show``) see every
file. A stage outside the root file is addressed by its file, e.g.
``dvc repro pipelines/mlp_d53/dvc.yaml:figure_logits-mlp_d53`` (:func:`address`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # the files are large: the C parser

ROOT_FILE = Path("dvc.yaml")
PIPELINES = Path("pipelines")  # pipelines/<group>/dvc.yaml
LOCK_NAME = "dvc.lock"


def pipeline_file(group: str | None) -> Path:
    """The dvc.yaml of ``group`` (an experiment or sweep), or the root one for ``None``."""
    return ROOT_FILE if group is None else PIPELINES / group / ROOT_FILE.name


def yaml_files(root: Path = Path(".")) -> list[Path]:
    """Every pipeline file under ``root`` that exists: the root one first, then by group."""
    files = [root / ROOT_FILE] + sorted((root / PIPELINES).glob(f"*/{ROOT_FILE.name}"))
    return [f for f in files if f.is_file()]


def lock_files(root: Path = Path(".")) -> list[Path]:
    """Every ``dvc.lock`` beside a pipeline file under ``root`` that exists."""
    locks = [f.with_name(LOCK_NAME) for f in yaml_files(root)]
    return [f for f in locks if f.is_file()]


def _load(path: Path) -> dict[str, Any]:
    return yaml.load(path.read_text(), Loader=_Loader) or {}


def _file_stages(root: Path) -> dict[Path, dict[str, dict[str, Any]]]:
    """Each pipeline file under ``root`` with its stages, by name."""
    return {f: _load(f).get("stages", {}) for f in yaml_files(root)}


def stages(root: Path = Path(".")) -> dict[str, dict[str, Any]]:
    """Every stage of every pipeline file, by name (as written in dvc.yaml)."""
    return {name: s for named in _file_stages(root).values() for name, s in named.items()}


def locked(root: Path = Path(".")) -> dict[str, dict[str, Any]]:
    """Every stage recorded in the ``dvc.lock`` beside its own pipeline file, by name (an
    entry left in another file's lock, by a stage that moved, is not DVC's record of it)."""
    out = {}
    for f, names in _file_stages(root).items():
        lock = f.with_name(LOCK_NAME)
        if lock.is_file():
            out |= {n: s for n, s in _load(lock).get("stages", {}).items() if n in names}
    return out


def address(name: str, root: Path = Path(".")) -> str:
    """What DVC commands take for stage ``name``: the name for a root stage,
    ``pipelines/<group>/dvc.yaml:<name>`` otherwise."""
    files = _file_stages(root)
    for f, names in files.items():
        if name in names:
            rel = f.relative_to(root)
            return name if rel == ROOT_FILE else f"{rel.as_posix()}:{name}"
    raise KeyError(f"no DVC stage {name!r} in {', '.join(map(str, files))}")


def stage_name(addressed: str) -> str:
    """The stage name of a DVC address (``dvc status --json`` keys, :func:`address`)."""
    return addressed.rsplit(":", 1)[-1]


def differences(texts: dict[Path, str], header: str, root: Path = Path(".")) -> list[Path]:
    """The pipeline files under ``root`` that are not as ``texts`` (path relative to
    ``root`` → text) has them: missing, different, or generated (their text starts with
    ``header``) and no longer in ``texts``."""
    stale = [p for p, text in texts.items() if not (root / p).is_file()
             or (root / p).read_text() != text]  # fmt: skip
    return stale + _unused(texts, header, root)


def _unused(texts: dict[Path, str], header: str, root: Path) -> list[Path]:
    return [f.relative_to(root) for f in yaml_files(root) if f.relative_to(root) not in texts
            and f.read_text().startswith(header)]  # fmt: skip


def write(texts: dict[Path, str], header: str, root: Path = Path(".")) -> None:
    """Make the pipeline files under ``root`` those of ``texts``: write each that differs;
    remove generated ones (starting with ``header``) that ``texts`` no longer has, an
    experiment's that left the suite, with their dvc.lock and, once empty, their folder."""
    for path, text in texts.items():
        f = root / path
        if not f.is_file() or f.read_text() != text:
            f.parent.mkdir(parents=True, exist_ok=True)
            f.write_text(text)
    for path in _unused(texts, header, root):
        f = root / path
        f.unlink()
        f.with_name(LOCK_NAME).unlink(missing_ok=True)
        if not any(f.parent.iterdir()):
            f.parent.rmdir()
