"""The Snakemake DAG of this project's Snakefile, as ``grokscope dvc-yaml`` and the sync with
DVC need it: every job with its rule, wildcards, files and params.

Snakemake has no public API that lists a DAG's jobs with their params or records a job as
finished; this module is the one place that uses the calls ``snakemake --printdag`` and a
finished job use (``Workflow._prepare_dag``/``_build_dag``, ``Persistence.finished``). The
project pins Snakemake below 10; ``tests/test_sync.py`` and the dvc-yaml tests exercise both.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any


def stage_name(rule: str, wildcards: dict[str, str]) -> str:
    """The DVC stage of a Snakemake job: ``<rule>-<wildcard values>``."""
    return "-".join([rule, *wildcards.values()])


@contextmanager
def workflow_dag(snakefile: Path = Path("Snakefile"), forceall: bool = True) -> Iterator[Any]:
    """The Snakemake workflow of ``snakefile`` with its DAG built (``workflow.dag``); with
    ``forceall``, every job of the full DAG (as ``snakemake --forceall``)."""
    from snakemake.api import SnakemakeApi
    from snakemake.settings.types import (
        DAGSettings,
        ExecutionSettings,
        OutputSettings,
        Quietness,
        ResourceSettings,
    )

    # This process reads the DAG itself: the Snakefile's start-up sync must not run here.
    previous = os.environ.get("GROKSCOPE_SYNCING")
    os.environ["GROKSCOPE_SYNCING"] = "1"
    try:
        with SnakemakeApi(OutputSettings(quiet={Quietness.ALL})) as api:
            workflow_api = api.workflow(
                resource_settings=ResourceSettings(cores=1), snakefile=snakefile
            )
            workflow_api.dag(DAGSettings(forceall=forceall))
            workflow = workflow_api._workflow
            workflow._prepare_dag(forceall=forceall, ignore_incomplete=True, lock_warn_only=True)
            workflow._build_dag()
            workflow.execution_settings = ExecutionSettings()  # read by Persistence.finished
            yield workflow
    finally:
        if previous is None:
            os.environ.pop("GROKSCOPE_SYNCING", None)
        else:
            os.environ["GROKSCOPE_SYNCING"] = previous


def record_as_finished(workflow: Any, jobs: list[Any]) -> None:
    """Write Snakemake's metadata for ``jobs`` as if each had just finished (current params,
    code, input set and input checksums); touches no file."""

    async def write() -> None:
        for job in jobs:
            await workflow.persistence.finished(job)

    workflow.async_run(write())


@dataclass
class JobSpec:
    """What dvc.yaml needs to know about one Snakemake job."""

    rule: str
    wildcards: dict[str, str]
    inputs: list[str]
    outputs: list[tuple[str, str]]  # (output name or "", path)
    params: dict[str, Any]
    rule_file: str
    has_log: bool
    has_benchmark: bool
    log: str = ""
    threads: int = 1
    directories: tuple[str, ...] = ()  # outputs marked directory()


def snakemake_jobs(snakefile: Path = Path("Snakefile")) -> list[JobSpec]:
    """Every job of the full DAG (as with ``--forceall``)."""
    root = snakefile.resolve().parent
    specs = []
    from snakemake.io import is_flagged

    with workflow_dag(snakefile) as workflow:
        for job in workflow.dag.jobs:
            if not job.output:  # the `all` target
                continue
            names = {str(path): name for name, path in job.output._allitems()}
            specs.append(
                JobSpec(
                    rule=job.rule.name,
                    wildcards=dict(job.wildcards_dict),
                    inputs=[str(f) for f in job.input],
                    outputs=[(names.get(str(f), ""), str(f)) for f in job.output],
                    params=dict(job.params._allitems()),
                    rule_file=str(Path(job.rule.snakefile).resolve().relative_to(root)),
                    has_log=bool(job.log),
                    has_benchmark=job.benchmark is not None,
                    log=str(job.log[0]) if job.log else "",
                    threads=job.threads,
                    directories=tuple(str(f) for f in job.output if is_flagged(f, "directory")),
                )
            )
    return sorted(specs, key=lambda s: (s.rule, sorted(s.wildcards.items())))
