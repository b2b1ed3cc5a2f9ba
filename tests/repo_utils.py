"""Helpers for tests that run the real pipeline in temporary git repositories."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import yaml
from filelock import FileLock

from grokscope import dvcfiles
from grokscope.sync import owners

ROOT = Path(__file__).resolve().parents[1]
TINY = "tiny_c41"


def run(
    cmd: str, cwd: Path, check: bool = True, env: dict[str, str | None] | None = None
) -> subprocess.CompletedProcess:
    """Run a shell command in ``cwd`` with this interpreter's tools and the copy's package.

    ``env`` adds variables to the environment (a value of None removes one).
    """
    extra = env or {}
    env = {k: v for k, v in {**os.environ, **extra}.items() if v is not None}
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env["PATH"]])
    env["PYTHONPATH"] = str(cwd / "workflow")  # the copy's package, not the installed one
    for var in ("AUTHOR", "COMMITTER"):  # commits work on machines without a git identity
        env.setdefault(f"GIT_{var}_NAME", "grokscope tests")
        env.setdefault(f"GIT_{var}_EMAIL", "tests@grokscope.invalid")
    done = subprocess.run(cmd, shell=True, cwd=cwd, env=env, text=True, capture_output=True)
    if check and done.returncode != 0:
        raise AssertionError(f"`{cmd}` failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return done


def nothing_to_do(repo: Path) -> bool:
    """Whether `snakemake -n` is empty, judged by modification times alone, as on the default
    suite's files (larger than Snakemake's 1 MB checksum limit), not by small files' checksums.
    """
    dry = run("snakemake -n --cores 1 --max-checksum-file-size 0", repo)
    return "Nothing to be done" in dry.stdout + dry.stderr


def dvc_clean(repo: Path) -> bool:
    return run("dvc status --json", repo).stdout.strip() in ("{}", "")


def set_value(path: Path, key: str, value: str) -> None:
    """Replace the value of an indented ``key:`` line in a params YAML file."""
    text = path.read_text()
    new, count = re.subn(rf"^(\s*{key}:\s*)\S+", rf"\g<1>{value}", text, count=1, flags=re.M)
    assert count == 1, f"no {key} in {path}"
    path.write_text(new)


def result_files(repo: Path) -> dict[str, Path]:
    base = repo / "results"
    skip = ("logs", "benchmarks")
    return {
        str(p.relative_to(base)): p
        for p in sorted(base.rglob("*"))
        if p.is_file()
        and p.relative_to(base).parts[0] not in skip
        and not any(part.endswith(".resume") for part in p.parts)
    }


def make_repo(repo: Path, experiments: list[str]) -> Path:
    """A git repo at ``repo``: this working tree (tracked and untracked-but-not-ignored files)
    with ``params/suite.yaml`` listing ``experiments`` and its DVC pipeline files generated for
    it (no dvc.lock: nothing is built)."""
    files = run("git ls-files -z --cached --others --exclude-standard", ROOT).stdout.split("\0")
    for name in filter(None, files):
        if (ROOT / name).is_file() and Path(name).name != "dvc.lock":
            (repo / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, repo / name)
    suite = "".join(f"  - {name}\n" for name in experiments)
    (repo / "params/suite.yaml").write_text(f"experiments:\n{suite}")
    run("git init -q && git add -A && git commit -qm init", repo)
    run("grokscope dvc-yaml && git add -A && git commit -qm suite --allow-empty", repo)
    return repo


def copy_repo(src: Path, dest: Path) -> Path:
    """A copy of a built repo (git, DVC cache and lock, Snakemake metadata, results, with
    their modification times), so tests that change things need not rebuild."""
    shutil.copytree(src, dest, symlinks=True)
    return dest


def shared_build(base_temp: Path, name: str, build: Callable[[Path], None]) -> Path:
    """``<run's temp dir>/<name>/repo``, made by ``build(repo)`` (``repo`` does not exist yet)
    once per test run.

    ``base_temp`` is the run's common temporary directory (under pytest-xdist, the parent of
    the workers' own). The first worker to ask builds it under a file lock and marks it done;
    the others wait for it and share it. Callers must not change it (tests that change
    things work on a :func:`copy_repo` of it). A failed attempt is started afresh.
    """
    repo, done = base_temp / name / "repo", base_temp / name / "built"
    with FileLock(base_temp / f"{name}.lock"):
        if not done.exists():
            shutil.rmtree(repo, ignore_errors=True)
            repo.parent.mkdir(exist_ok=True)
            build(repo)
            done.touch()
    return repo


def unreached_by_dvc_repro(repo: Path) -> set[str]:
    """Stages that `dvc repro` without a target would not build: it builds the root
    dvc.yaml's stages and, following their dependencies, every stage whose outputs they read."""
    stages = dvcfiles.stages(repo)
    owner = owners(stages)
    reached, todo = set(), list(yaml.safe_load((repo / "dvc.yaml").read_text())["stages"])
    while todo:
        name = todo.pop()
        if name not in reached:
            reached.add(name)
            todo += [owner[dep] for dep in stages[name]["deps"] if dep in owner]
    return set(stages) - reached
