"""Snakemake and DVC agree: one record of what is built, kept in step from both sides.

DVC's ``dvc.lock`` files are the record (content hashes, shared through git and the remote;
one beside each pipeline file, :mod:`grokscope.dvcfiles`);
Snakemake's own bookkeeping (``.snakemake/metadata``: each output's params, code and input
set; file modification times) is local. Three things keep them in step:

- :func:`record` (the Snakefile's ``onsuccess``): after a plain ``snakemake`` run, commit to
  ``dvc.lock`` exactly the stages whose jobs this run executed (plus any whose outputs DVC
  has never recorded), without touching any output's modification time.
- :func:`resync` (``grokscope sync``; the Snakefile runs it at start-up whenever ``dvc.lock``
  changed since Snakemake last agreed with it, i.e. after ``dvc repro``, a run-cache restore,
  ``dvc checkout``, ``dvc pull`` or ``dvc exp apply``): for every stage ``dvc status`` calls
  up to date, write Snakemake's metadata for its job as of now and make its outputs no older
  than its inputs, so Snakemake calls it up to date too. Stages DVC calls stale are left for
  Snakemake to find stale by itself (it sees the same params and code).
- :func:`pull` (``grokscope pull``): ``dvc pull``, require ``dvc status`` to be clean,
  :func:`resync`, then check that ``snakemake -n`` has nothing to do.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

from grokscope import dvcfiles

# What dvc.lock and the outputs looked like when Snakemake last agreed with DVC.
MARKER = Path(".snakemake/grokscope/in-step-with-dvc")
TIMESTAMP = ".snakemake_timestamp"  # Snakemake's mtime carrier inside directory outputs


def _say(message: str) -> None:
    print(f"grokscope: {message}", file=sys.stderr)


def fingerprint() -> str:
    """SHA-256 of every dvc.lock and of every output's modification time as Snakemake sees
    it (a directory's own and its ``.snakemake_timestamp``'s): what any DVC operation that
    writes outputs or records them changes, even when it restores an earlier dvc.lock."""
    digest = hashlib.sha256()
    for lock in dvcfiles.lock_files():
        digest.update(f"{lock}:".encode() + lock.read_bytes())
    stages = dvcfiles.stages()
    for path in sorted({p for stage in stages.values() for p in _stage_outputs(stage)}):
        for part in (Path(path), Path(path) / TIMESTAMP):
            try:
                digest.update(f"{part}:{part.stat().st_mtime_ns}\n".encode())
            except (FileNotFoundError, NotADirectoryError):
                pass
    return digest.hexdigest()


def in_step() -> bool:
    """Whether dvc.lock and the outputs are as they were when Snakemake last agreed with DVC."""
    return MARKER.exists() and MARKER.read_text().strip() == fingerprint()


def mark_in_step() -> None:
    MARKER.parent.mkdir(parents=True, exist_ok=True)
    MARKER.write_text(fingerprint() + "\n")


def _stage_outputs(stage: dict) -> list[str]:
    """The paths a dvc.yaml stage records (outs, metrics, plots)."""
    paths = []
    for kind in ("outs", "metrics", "plots"):
        paths += [next(iter(o)) if isinstance(o, dict) else o for o in stage.get(kind, [])]
    return paths


def _files(paths: Iterable[str]) -> list[Path]:
    """Every file of ``paths`` (directories walked)."""
    out = []
    for path in map(Path, paths):
        out += [p for p in path.rglob("*") if p.is_file()] if path.is_dir() else [path]
    return out


def dvc_stale_stages() -> set[str]:
    """Names of the stages ``dvc status`` reports as changed (raises RuntimeError if it
    fails)."""
    done = subprocess.run(["dvc", "status", "--json"], capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"`dvc status` failed: {(done.stderr or done.stdout).strip()}")
    return {dvcfiles.stage_name(key) for key in json.loads(done.stdout or "{}")}


def owners(stages: dict[str, dict]) -> dict[str, str]:
    """Output path → the DVC stage that records it."""
    return {path: name for name, stage in stages.items() for path in _stage_outputs(stage)}


def commit(names: list[str]) -> None:
    """Record ``names`` in their dvc.lock files in one pass (DVC's ``dvc commit --force``
    re-reads dvc.yaml and dvc.lock once per stage), keeping every output's modification
    time."""
    from dvc.repo import Repo

    stages = dvcfiles.stages()
    files = _files(p for name in names for p in _stage_outputs(stages[name]))
    times = {f: f.stat().st_mtime_ns for f in files}
    with Repo() as repo, repo.lock:
        todo = [s for s in repo.index.stages if s.cmd and s.name in set(names)]
        for stage in todo:
            stage.save()  # hashes deps and outs (DVC's state db skips unchanged files)
            stage.commit()  # outs into the cache
        # Each stage has its own dvcfile object: group by path, so that each dvc.lock is parsed
        # and written once (DVC's round-trip YAML is slow on a large lock file; once per stage
        # it was most of a full build's closing record).
        by_path: dict[str, list] = {}
        for stage in todo:
            by_path.setdefault(stage.dvcfile.path, []).append(stage)
        for group in by_path.values():
            group[0].dvcfile.dump_stages(group, update_pipeline=False)
    for f, ns in times.items():  # whatever the cache link type did, keep Snakemake's view
        if f.exists() and f.stat().st_mtime_ns != ns:
            os.utime(f, ns=(ns, ns), follow_symlinks=False)


def record(executed: Iterable[str], current: Iterable[str]) -> None:
    """The closing record of a plain ``snakemake`` run: commit to dvc.lock each stage that
    this run executed a job of (or that DVC has never recorded) and whose outputs this run
    all either produced or found up to date; nothing else, so a stage that is stale is never
    stamped as current.

    Args:
        executed: outputs of the jobs this run executed.
        current: outputs of every job of this run's DAG that it executed or found up to date.
    """
    executed, current = set(executed), set(current)
    stages = dvcfiles.stages()
    locked = dvcfiles.locked()
    todo = sorted(
        name
        for name, stage in stages.items()
        if (name not in locked or executed & set(_stage_outputs(stage)))
        and set(_stage_outputs(stage)) <= current
    )
    try:
        if todo:
            commit(todo)
    except Exception as err:  # noqa: BLE001 - DVC's own errors vary; the run itself succeeded
        _say(f"outputs not recorded in dvc.lock: {str(err).splitlines()[0]}")
        return
    if all(set(_stage_outputs(stage)) <= current for stage in stages.values()):
        mark_in_step()
    else:
        # A run of some targets: jobs it did not reach may now see inputs that it rewrote
        # with the same bytes as newer than their outputs, which DVC (by content) does not.
        # The next start syncs them (resync_if_needed).
        MARKER.unlink(missing_ok=True)


def _mtime_ns(path: Path) -> int:
    """A path's modification time as Snakemake sees it: a directory's is that of the
    ``.snakemake_timestamp`` inside it, if there is one; a symlink's, its target's."""
    marker = path / TIMESTAMP
    return (marker if path.is_dir() and marker.exists() else path).stat().st_mtime_ns


def _set_mtime_ns(path: Path, ns: int) -> None:
    marker = path / TIMESTAMP
    target = marker if path.is_dir() and marker.exists() else path
    os.utime(target, ns=(ns, ns), follow_symlinks=False)


def order_mtimes(jobs: list[tuple[list[Path], list[Path]]]) -> int:
    """Make each job's outputs no older than its inputs, in the given (topological) order:
    ``jobs`` holds ``(inputs, outputs)`` of each; an output's benchmark file counts as an
    output, as Snakemake counts it. Returns how many paths were touched."""
    touched = 0
    for inputs, outputs in jobs:
        present = [p for p in inputs if p.exists()]
        newest = max((_mtime_ns(p) for p in present), default=0)
        for path in outputs:
            if path.exists() and _mtime_ns(path) < newest:
                _set_mtime_ns(path, newest)
                touched += 1
    return touched


def resync(snakefile: Path = Path("Snakefile"), stale: set[str] | None = None) -> int:
    """Bring Snakemake's records in step with dvc.lock for every stage DVC calls up to date
    (``stale``: the stages ``dvc status`` reports, when the caller just ran it). Returns a
    process exit code."""
    from grokscope.dag import record_as_finished, workflow_dag

    if stale is None:
        try:
            stale = dvc_stale_stages()
        except RuntimeError as err:
            _say(f"cannot sync Snakemake with DVC: {err}")
            return 1
    owner = owners(dvcfiles.stages())
    with workflow_dag(snakefile) as workflow:
        clean = [
            job
            for level in workflow.dag.toposorted()
            for job in level
            if job.output
            and all(owner.get(str(f)) not in (None, *stale) for f in job.output)
            and all(Path(f).exists() for f in job.output)
        ]
        touched = order_mtimes(
            [
                (
                    [Path(f) for f in job.input],
                    [Path(f) for f in job.output]
                    + ([Path(job.benchmark)] if job.benchmark else []),
                )
                for job in clean
            ]
        )
        record_as_finished(workflow, clean)
    mark_in_step()
    note = f"; {len(stale)} stale in DVC, left for Snakemake to rerun" if stale else ""
    _say(f"Snakemake in step with dvc.lock: {len(clean)} jobs recorded, {touched} times set{note}")
    return 0


def resync_if_needed() -> None:
    """What the Snakefile runs at start-up: :func:`resync` in a subprocess when dvc.lock
    changed since Snakemake last agreed with it. Inside a DVC stage (DVC holds the
    repository lock there) it only notes that Snakemake's records are about to change under
    DVC's control, so that the next Snakemake run outside DVC resyncs, even if DVC ends up
    writing the same dvc.lock as before (a run-cache restore of an earlier state)."""
    if "GROKSCOPE_SYNCING" in os.environ:
        return
    if "DVC_STAGE" in os.environ:
        MARKER.unlink(missing_ok=True)
        return
    if not Path(".dvc").is_dir() or not dvcfiles.lock_files() or in_step():
        return
    env = {**os.environ, "GROKSCOPE_SYNCING": "1"}
    subprocess.run([sys.executable, "-m", "grokscope", "sync"], env=env, check=False)


def pull(remote: str | None = None, jobs: int | None = None) -> int:
    """``dvc pull``, require a clean ``dvc status``, :func:`resync`, then verify that
    Snakemake has nothing to do. Returns a process exit code."""
    from grokscope.dag import workflow_dag

    cmd = ["dvc", "pull", "--quiet"] + (["--remote", remote] if remote else [])
    cmd += ["--jobs", str(jobs)] if jobs else []
    if subprocess.run(cmd).returncode != 0:
        _say("pull: `dvc pull` failed (see above)")
        return 1
    try:
        stale = dvc_stale_stages()
    except RuntimeError as err:
        _say(f"pull: {err}")
        return 1
    if stale:
        _say(
            f"pull: workspace differs from dvc.lock after pulling ({', '.join(sorted(stale))});"
            " run `dvc repro` (or commit the change) first"
        )
        return 1
    if resync(stale=stale) != 0:
        return 1
    with workflow_dag(forceall=False) as workflow:  # what `snakemake -n` would run
        left = sorted({job.rule.name for job in workflow.dag.needrun_jobs() if job.output})
    if left:
        _say(f"pull: Snakemake would still run {', '.join(left)} (see `snakemake -n`)")
        return 1
    _say("pull: every artifact is in place; `dvc status` is clean and `snakemake -n` is empty")
    return 0
