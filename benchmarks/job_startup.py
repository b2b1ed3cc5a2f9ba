"""Job start-up against job work: how much of a pipeline run's CPU goes to starting each job
(the interpreter and its step's imports: torch, pandas, pyarrow, plotly; for a figure job also
its headless browser) rather than to the job's own computation.

    snakemake --cores all            # a built suite
    python benchmarks/job_startup.py [--rounds 3]

Replays every DVC stage of the built suite (each stage's command as ``dvc repro`` runs it, one
after another, in a scratch copy of ``workflow/``, ``params/`` and ``results/``: the project's
own files are not touched) and measures each job's CPU seconds, whole machine (``/proc/stat``:
a figure job's browser processes are not reaped by the job, so its rusage would miss them;
Snakemake's benchmark files sample a job about once a second and miss a short job's last
second). Then, in the same run and the same way, the CPU seconds of a process that only imports
what the rule's job imports (``grokscope.cli`` and ``grokscope.steps.<step>``) and, for figure
rules, of one browser started, with kaleido's page and plotly.js, and closed, as a figure job
does (:class:`grokscope.plots.browser.Session`); each the least of ``--rounds``. The start-up
share is (imports + browser) × jobs / job CPU. Run it on an otherwise idle machine; it takes
about as long as the suite's job CPU seconds (a few minutes for the tiny suite).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from functools import partial
from pathlib import Path

from figure_browsers import cpu_seconds

from grokscope import dvcfiles
from grokscope.plots.browser import Session, png_timeout
from grokscope.plots.plotlyjs import partial_plotly

SCRATCH_PARTS = ("workflow", "params", "results", "external", "pipelines", "dvc.yaml")


def background_rate() -> float:
    """Whole-machine CPU seconds per wall second with nothing of ours running (other tenants,
    the kernel): subtracted from each measurement."""
    before = cpu_seconds()
    time.sleep(1.0)
    return cpu_seconds() - before


def machine_cpu(action: Callable[[], object], background: float) -> float:
    """Whole-machine CPU seconds of ``action()``, less the background, after its processes
    have wound down."""
    before, wall = cpu_seconds(), time.perf_counter()
    action()
    time.sleep(0.5)
    return cpu_seconds() - before - background * (time.perf_counter() - wall)


def job_cpu(scratch: Path, background: float) -> dict[str, list[float]]:
    """``{rule: [CPU seconds of each of its jobs]}``: every DVC stage's command replayed in
    ``scratch``, one after another (inputs exist, so any order does). A sweep's stage
    (``<rule>-<sweep>``) runs its members' jobs through one Snakemake and counts as one job."""
    jobs: dict[str, list[float]] = defaultdict(list)
    for name, stage in dvcfiles.stages(scratch).items():
        run = partial(subprocess.run, stage["cmd"], shell=True, cwd=scratch, check=True)
        jobs[name.split("-")[0]].append(machine_cpu(run, background))
    return dict(jobs)


def step_of(rule: str) -> str:
    """The pipeline step a rule runs (batched sweeps' rules are ``train_batched_<sweep>``)."""
    return "train_batched" if rule.startswith("train_batched_") else rule


def import_cpu(step: str, rounds: int, background: float) -> float:
    """Whole-machine CPU seconds of a fresh interpreter importing what ``python -m grokscope
    <step>`` does before it starts the step's work; the least of ``rounds``."""
    code = f"import grokscope.cli, grokscope.steps.{step}"
    env = {**os.environ, "PYTHONPATH": "workflow"}
    run = partial(subprocess.run, [sys.executable, "-c", code], env=env, check=True)
    return min(machine_cpu(run, background) for _ in range(rounds))


def browser_cpu(rounds: int, background: float) -> float:
    """Whole-machine CPU seconds of starting a figure job's browser and closing it unused;
    the least of ``rounds``."""

    def start_and_close() -> None:
        session = Session(png_timeout(), partial_plotly())  # as a figure job starts it
        session.opened.result()
        session.close(wait=session.start_limit)

    return min(machine_cpu(start_and_close, background) for _ in range(rounds))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3, help="measurements each (the least)")
    args = parser.parse_args()
    if not dvcfiles.locked(Path(".")):
        print("no stage is recorded in a dvc.lock: build the suite first", file=sys.stderr)
        return 1
    background = background_rate()
    with tempfile.TemporaryDirectory() as tmp:
        scratch = Path(tmp)
        for part in map(Path, SCRATCH_PARTS):
            if part.is_dir():
                shutil.copytree(part, scratch / part, symlinks=True)
            elif part.exists():
                shutil.copy2(part, scratch / part)
        jobs = job_cpu(scratch, background)
    browser = browser_cpu(args.rounds, background)
    header = f"{'rule':<24}{'jobs':>5}{'job CPU-s':>11}{'imports':>9}{'browser':>9}{'start-up':>10}"
    print(header + "\n" + "-" * len(header))
    total = startup = 0.0
    for rule, cpu in sorted(jobs.items()):
        imports = import_cpu(step_of(rule), args.rounds, background)
        start = browser if rule.startswith("figure_") else 0.0
        share = (imports + start) * len(cpu) / sum(cpu)
        total, startup = total + sum(cpu), startup + (imports + start) * len(cpu)
        print(f"{rule:<24}{len(cpu):>5}{sum(cpu):>11.1f}{imports:>9.2f}{start:>9.2f}{share:>10.0%}")
    print("-" * len(header))
    count = sum(map(len, jobs.values()))
    print(f"{'all':<24}{count:>5}{total:>11.1f}{'':>18}{startup / total:>10.0%}")
    print(f"start-up: {startup:.1f} of the run's {total:.1f} job CPU-s (imports, and a browser "
          f"started and closed per figure job: {browser:.2f} CPU-s)")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
