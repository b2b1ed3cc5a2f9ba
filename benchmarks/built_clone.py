"""Shared by the benchmarks that time Snakemake and DVC on the built default suite: shell
commands, the "both tools clean" check, and fresh clones of this repository that
``grokscope pull`` fills from its DVC remote (so nothing here touches the built repository
but one ``dvc push``)."""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def sh(cmd: str, cwd: Path, check: bool = True) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(cwd / "workflow")}
    done = subprocess.run(cmd, shell=True, cwd=cwd, env=env, text=True, capture_output=True)
    if check and done.returncode != 0:
        sys.exit(f"`{cmd}` failed in {cwd}:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    return done


def clean(repo: Path) -> bool:
    """`snakemake -n` (by modification times alone) and `dvc status` both have nothing to do."""
    dry = sh("snakemake -n --max-checksum-file-size 0", repo)
    status = sh("dvc status --json", repo).stdout.strip()
    return "Nothing to be done" in dry.stdout + dry.stderr and status in ("", "{}")


def row(name: str, seconds: list[float], goal: float | None, unit: str = "s") -> None:
    """One line: name, min, median, max and the goal, met or not (by the median)."""
    low, mid, high = min(seconds), statistics.median(seconds), max(seconds)
    verdict = "" if goal is None else ("  met" if mid <= goal else "  NOT met")
    goal_text = "" if goal is None else f"≤ {goal:g} {unit}"
    print(f"{name:<46}{low:8.2f}{mid:8.2f}{high:8.2f}   {goal_text:<8}{verdict}")


def remote_url() -> tuple[str, str]:
    """Push the built suite to the default remote; its name and absolute URL."""
    if not (ROOT / "results/index.html").exists() or not clean(ROOT):
        sys.exit("build the default suite first (snakemake --cores all): it is not built here")
    # The clones get HEAD: the build's dvc.lock files must be committed.
    if sh("git status --porcelain -- dvc.lock dvc.yaml pipelines params", ROOT).stdout.strip():
        sys.exit("commit the build first (git add dvc.lock pipelines && git commit): the clone"
                 " gets HEAD")  # fmt: skip
    sh("dvc push --quiet", ROOT)
    remote = sh("dvc remote default", ROOT).stdout.strip()
    url = sh("dvc remote list --local", ROOT).stdout or sh("dvc remote list", ROOT).stdout
    url = {line.split()[0]: line.split()[1] for line in url.splitlines() if line.strip()}[remote]
    return remote, str((ROOT / ".dvc" / url).resolve()) if "://" not in url else url


def fresh_clone(clone: Path, remote: tuple[str, str], pull: bool = False) -> None:
    """A new git clone of HEAD at ``clone`` using ``remote``; filled by ``grokscope pull``."""
    shutil.rmtree(clone, ignore_errors=True)
    sh(f"git clone -q {ROOT} {clone}", clone.parent)
    sh(f"dvc remote modify --local {remote[0]} url {remote[1]}", clone)
    if pull:
        sh("grokscope pull", clone)
