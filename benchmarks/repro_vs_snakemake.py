"""`dvc repro` against `snakemake --cores all` for the same change on the built default suite:
a figure-style change (``width`` in params/figures.yaml), which re-renders every figure job and
the report.

    snakemake --cores all && git add dvc.lock pipelines && git commit -m built   # build, once
    python benchmarks/repro_vs_snakemake.py [--runs 1]

In a fresh clone filled by ``grokscope pull`` (benchmarks/built_clone.py), each run sets a
width not used before (so DVC's run-cache cannot restore it) and times ``dvc repro``, then
another new width and times ``snakemake --cores all``; after each, both tools must be clean.
Prints both times, the jobs each ran, and their ratio against the goal (≤ 1.5).

Then what DVC pays per stage that Snakemake does not: after each stage, DVC rewrites that
stage's ``dvc.lock`` (one per pipeline file, :mod:`grokscope.dvcfiles`), parsing it
round-trip (ruamel.yaml's pure-Python round-trip loader, which keeps comments and layout) and
dumping it whole. Timed here with DVC's own functions on each lock file the last
``dvc repro`` updated, best of 3, and summed over its updates: the part of the difference that
grows with the lock files (every stage lists its code dependencies). Then the same for the
suite's stages in one lock file, as they were before the pipeline was split by experiment.
"""

from __future__ import annotations

import argparse
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path

from built_clone import ROOT, clean, fresh_clone, remote_url, row, sh


def set_width(repo: Path, width: int) -> None:
    path = repo / "params/figures.yaml"
    text, count = re.subn(r"(?m)^width: *\d+", f"width: {width}", path.read_text())
    assert count == 1, "params/figures.yaml has no `width:` line"
    path.write_text(text)


def timed(cmd: str, repo: Path) -> tuple[float, str]:
    start = time.perf_counter()
    done = sh(cmd, repo)
    seconds = time.perf_counter() - start
    assert clean(repo), f"not in step after `{cmd}`"
    return seconds, done.stdout + done.stderr


def lock_rewrite_seconds(text: str) -> float:
    """Seconds DVC takes to rewrite a lock file of ``text`` once (round-trip parse and dump),
    best of 3."""
    import io

    from dvc.utils.serialize._yaml import _dump, parse_yaml_for_update

    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        _dump(parse_yaml_for_update(text, "dvc.lock"), io.StringIO())
        best = min(best, time.perf_counter() - start)
    return best


def lock_rewrites(clone: Path, log: str) -> None:
    """Print what the lock rewrites of a ``dvc repro`` (its ``log``) cost, and what they would
    cost with every stage in one lock file."""
    import yaml

    from grokscope import dvcfiles

    updated = re.findall(r"(?m)^Updating lock file '([^']+)'", log)
    cost = {path: lock_rewrite_seconds((clone / path).read_text()) for path in set(updated)}
    sizes = ", ".join(f"{(clone / p).stat().st_size / 1e3:.0f} kB" for p in sorted(cost))
    print(f"lock files rewritten: {len(updated)} times ({sizes}): "
          f"{sum(cost[p] for p in updated):.0f} s of the last dvc repro")  # fmt: skip
    one = yaml.safe_dump({"schema": "2.0", "stages": dvcfiles.locked(clone)}, sort_keys=False)
    seconds = lock_rewrite_seconds(one)
    print(f"in one lock file ({len(one) / 1e3:.0f} kB): {seconds:.2f} s per rewrite, "
          f"{seconds * len(updated):.0f} s")  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=1)
    args = parser.parse_args()
    remote = remote_url()
    work = Path(tempfile.mkdtemp(prefix="grokscope-bench-", dir=ROOT.parent))
    try:
        clone = work / "clone"
        fresh_clone(clone, remote, pull=True)
        repro, snake, ratios = [], [], []
        for run in range(args.runs):
            set_width(clone, 901 + 2 * run)
            seconds, repro_log = timed("dvc repro", clone)
            stages = len(re.findall(r"(?m)^Running stage '", repro_log))
            repro.append(seconds)
            set_width(clone, 902 + 2 * run)
            seconds, log = timed("snakemake --cores all", clone)
            jobs = re.search(r"(\d+) of \d+ steps \(100%\) done", log)
            snake.append(seconds)
            ratios.append(repro[-1] / snake[-1])
            print(f"run {run + 1}: dvc repro {repro[-1]:.0f} s ({stages} stages), snakemake "
                  f"{snake[-1]:.0f} s ({jobs.group(1) if jobs else '?'} jobs)")  # fmt: skip
        print(f"{'':<46}{'min':>8}{'median':>8}{'max':>8}   goal")
        row("dvc repro, figure width changed", repro, None)
        row("snakemake --cores all, figure width changed", snake, None)
        row("dvc repro / snakemake", ratios, 1.5, unit="×")
        lock_rewrites(clone, repro_log)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
