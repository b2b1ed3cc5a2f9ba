"""Snakemake and DVC in step on the default suite: what a no-op, a status check, the closing
record and a pull cost, and the same with a 50-seed sweep added to the suite.

    snakemake --cores all                  # build the default suite first
    python benchmarks/agreement.py [--runs 3] [--sweep 50]

Everything but one ``dvc push`` (to the configured remote) happens in a temporary clone of
this repository beside it: ``grokscope pull`` into a fresh clone each run, then, in the last
clone, the no-op ``snakemake --cores all``, ``dvc status``, and the closing record of every
stage (what a full build ends with) and of one stage (a one-job change). With ``--sweep N``
the clone's suite gains an N-seed sweep of the small dihedral experiment (``tiny_d7``),
built once (several minutes), and the no-op and ``dvc status`` are timed again. Goals are
printed beside each figure.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def sh(cmd: str, cwd: Path, check: bool = True) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(cwd / "workflow")}
    done = subprocess.run(cmd, shell=True, cwd=cwd, env=env, text=True, capture_output=True)
    if check and done.returncode != 0:
        sys.exit(f"`{cmd}` failed in {cwd}:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    return done


# The closing record of a run that executed the named stages' jobs (all of them: a full build).
RECORD = """\
import sys
from grokscope.sync import owners, record
import yaml
every = owners(yaml.safe_load(open("dvc.yaml"))["stages"])
record([path for path, stage in every.items() if stage in sys.argv[1:]], every)
"""


def timed(cmd: str, cwd: Path, runs: int, setup=None) -> list[float]:
    out = []
    for _ in range(runs):
        if setup is not None:
            setup()
        start = time.perf_counter()
        sh(cmd, cwd)
        out.append(time.perf_counter() - start)
    return out


def row(name: str, seconds: list[float], goal: float | None) -> None:
    low, mid, high = min(seconds), statistics.median(seconds), max(seconds)
    verdict = "" if goal is None else ("  met" if mid <= goal else "  NOT met")
    goal_text = "" if goal is None else f"≤ {goal:g} s"
    print(f"{name:<46}{low:8.2f}{mid:8.2f}{high:8.2f}   {goal_text:<8}{verdict}")


def clean(repo: Path) -> bool:
    dry = sh("snakemake -n --max-checksum-file-size 0", repo)
    status = sh("dvc status --json", repo).stdout.strip()
    return "Nothing to be done" in dry.stdout + dry.stderr and status in ("", "{}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--sweep", type=int, default=50, help="seeds (0: skip the sweep)")
    args = parser.parse_args()
    if not (ROOT / "results/index.html").exists() or not clean(ROOT):
        sys.exit("build the default suite first (snakemake --cores all): it is not built here")
    # The clone gets HEAD: the build's dvc.lock must be committed.
    if sh("git status --porcelain -- dvc.lock params dvc.yaml", ROOT).stdout.strip():
        sys.exit("commit the build first (git add dvc.lock && git commit): the clone gets HEAD")
    sh("dvc push --quiet", ROOT)
    remote = sh("dvc remote default", ROOT).stdout.strip()
    url = sh("dvc remote list --local", ROOT).stdout or sh("dvc remote list", ROOT).stdout
    url = {line.split()[0]: line.split()[1] for line in url.splitlines() if line.strip()}[remote]
    url = str((ROOT / ".dvc" / url).resolve()) if "://" not in url else url

    work = Path(tempfile.mkdtemp(prefix="grokscope-bench-", dir=ROOT.parent))
    print(f"{'':<46}{'min':>8}{'median':>8}{'max':>8}   goal")
    try:
        clone = work / "clone"

        def fresh_clone() -> None:
            shutil.rmtree(clone, ignore_errors=True)
            sh(f"git clone -q {ROOT} {clone}", work)
            sh(f"dvc remote modify --local {remote} url {url}", clone)

        row("grokscope pull (fresh clone, local remote)",
            timed("grokscope pull", clone, args.runs, fresh_clone), 30)  # fmt: skip
        assert clean(clone), "not in step after grokscope pull"
        row("no-op snakemake --cores all", timed("snakemake --cores all", clone, args.runs), 10)
        row("dvc status", timed("dvc status", clone, args.runs), 3)
        stages = sorted(yaml.safe_load((clone / "dvc.yaml").read_text())["stages"])
        (clone / ".record.py").write_text(RECORD)
        record = "python .record.py"
        row(f"closing record, all {len(stages)} stages",
            timed(f"{record} {' '.join(stages)}", clone, args.runs), None)  # fmt: skip
        row("closing record, one stage", timed(f"{record} {stages[-1]}", clone, args.runs), None)

        if args.sweep:
            sweep = yaml.safe_load((clone / "params/experiments/tiny_d7.yaml").read_text())
            sweep["sweep"] = {"seed": list(range(args.sweep))}
            (clone / "params/experiments/bench_sweep.yaml").write_text(yaml.safe_dump(sweep))
            suite = yaml.safe_load((clone / "params/suite.yaml").read_text())
            suite["experiments"].append("bench_sweep")
            (clone / "params/suite.yaml").write_text(yaml.safe_dump(suite))
            sh("grokscope dvc-yaml", clone)
            start = time.perf_counter()
            sh("snakemake --cores all", clone)
            jobs = len(yaml.safe_load((clone / "dvc.yaml").read_text())["stages"])
            print(f"(built the {args.sweep}-seed sweep: {jobs} stages in all, "
                  f"{time.perf_counter() - start:.0f} s)")  # fmt: skip
            assert clean(clone), "not in step after building the sweep"
            row(f"no-op snakemake, + {args.sweep}-seed sweep",
                timed("snakemake --cores all", clone, args.runs), 15)  # fmt: skip
            row(f"dvc status, + {args.sweep}-seed sweep", timed("dvc status", clone, args.runs), 5)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
