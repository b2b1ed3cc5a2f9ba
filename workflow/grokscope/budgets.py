"""Up-front refusals of work that cannot fit: memory and disk estimates, the length of a
training run, and the number of jobs a suite makes.

Each check raises a one-line :class:`~grokscope.errors.ParamsError` naming the params file,
the fields that drive the estimate, and the estimate itself, before any job starts.
"""

from __future__ import annotations

import json
import math
import os
import shutil
from functools import cache
from pathlib import Path
from typing import Any

from grokscope.errors import ParamsError
from grokscope.families import group_order
from grokscope.pipeline import SUITE_STEPS, SWEEP_STEPS, experiment_steps
from grokscope.schedule import checkpoint_epochs
from grokscope.sizes import SIZES

# Refuse work whose rough working set exceeds this share of physical memory.
MEMORY_SHARE = 0.5
# Checkpoints and evaluations one training run may make (see check_training_length).
MAX_CHECKPOINTS = 10_000
MAX_EVALUATIONS = 100_000
# Jobs a suite may make unless params/suite.yaml sets `max_jobs` (README: "Suite size"):
# a typo in a sweep can make thousands of members, and Snakemake's DAG of them takes
# minutes and gigabytes before it runs anything.
DEFAULT_MAX_JOBS = 2_000


def physical_memory() -> int:
    """Bytes of RAM on this machine."""
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def _count(x: float) -> str:
    """1,234 for ordinary numbers, 1.2e+15 for astronomical ones (n! grows fast)."""
    x = float(x) if abs(x) < 1e300 else math.inf
    return f"{x:,.0f}" if x < 1e12 else f"{x:.1e}"


def training_bytes(order: float, model: dict[str, Any]) -> float:
    """Rough peak bytes to train ``model`` full-batch on all order² pairs (float32).

    Counts the floats each pair keeps alive in a step (the model's own estimate) three times
    (forward, saved for backward, gradient) plus the int64 dataset, and every parameter four
    times (weights, gradients, AdamW's two moments); good to a factor of two, which is all a
    refusal needs. A float, so astronomical sizes stay finite or ``inf``, never an error.
    """
    floats_per_pair, parameter_count = SIZES[model["kind"]]
    per_pair = float(floats_per_pair(model, order))
    return float(order) ** 2 * (3 * 4 * per_pair + 3 * 8) + 4 * 4 * parameter_count(model, order)


def check_training(exp: dict[str, Any], order: float, path: str | Path) -> None:
    """Refuse training that would not fit in memory, naming the fields that drive the
    estimate: ``group.n`` when even the narrowest model would not fit, else the model's widths
    (those that alone would make it fit, or all of them)."""
    model = exp["model"]
    need, have = training_bytes(order, model), physical_memory()
    budget = MEMORY_SHARE * have
    if need <= budget:
        return
    from grokscope.models import MODELS  # torch: only a refusal needs the width fields

    widths = MODELS[model["kind"]].width_fields
    if training_bytes(order, {**model, **dict.fromkeys(widths, 1)}) > budget:
        fields = ["group.n"]
    else:
        fields = [f"model.{w}" for w in widths if training_bytes(order, {**model, w: 1}) <= budget]
        fields = fields or [f"model.{w}" for w in widths]
    sizes = ", ".join(f"model.{w} = {_count(model[w])}" for w in widths)
    raise ParamsError(
        f"{path}: {', '.join(fields)}: training on all {_count(float(order) ** 2)} pairs of a "
        f"group of order {_count(order)} (group.n = {_count(exp['group']['n'])}) with {sizes} "
        f"needs about {_count(need / 2**30)} GiB, more than {MEMORY_SHARE:.0%} of this "
        f"machine's {have / 2**30:.1f} GiB; lower {' or '.join(fields)}"
    )


def check_training_length(train: dict[str, Any], path: str | Path) -> None:
    """Refuse more checkpoints or evaluations than the run can keep: every checkpoint is a
    file, and every evaluation's metrics ride in the resume state's header (safetensors caps
    headers at 100 MB)."""
    checkpoints = train["epochs"] // train["checkpoint_every"] + train["log_checkpoints"] + 2
    if checkpoints > MAX_CHECKPOINTS:
        raise ParamsError(
            f"{path}: train.checkpoint_every: {_count(train['epochs'])} epochs with a checkpoint "
            f"every {_count(train['checkpoint_every'])} make {_count(checkpoints)} checkpoints, "
            f"more than {MAX_CHECKPOINTS:,}; raise train.checkpoint_every"
        )
    evaluations = train["epochs"] // train["eval_every"] + checkpoints
    if evaluations > MAX_EVALUATIONS:
        raise ParamsError(
            f"{path}: train.eval_every: {_count(train['epochs'])} epochs with an evaluation "
            f"every {_count(train['eval_every'])} make {_count(evaluations)} evaluations, more "
            f"than {MAX_EVALUATIONS:,}; raise train.eval_every"
        )


def training_priority(exp: dict[str, Any]) -> float:
    """Snakemake priority of an experiment's dataset and training jobs: log10 of its training
    work (epochs × training pairs × floats per pair), so that the longest run, a suite's
    critical path, starts first and the short jobs fill the other cores beside it. Imported
    experiments train nothing: 0, as every other job."""
    if "train" not in exp:
        return 0.0
    order = group_order(exp["group"]["name"], exp["group"]["n"])
    pairs = max(1.0, exp["data"]["frac_train"] * float(order) ** 2)
    floats_per_pair = SIZES[exp["model"]["kind"]][0](exp["model"], order)
    return round(math.log10(max(1.0, exp["train"]["epochs"] * pairs * floats_per_pair)), 3)


def experiment_jobs(exp: dict[str, Any]) -> int:
    """How many jobs one experiment makes (:func:`grokscope.pipeline.experiment_steps`)."""
    return len(experiment_steps("import" in exp, exp["group"]["name"] == "cyclic"))


def check_sweep_jobs(
    exp: dict[str, Any], lengths: list[int], max_jobs: int, path: str | Path
) -> None:
    """Refuse a sweep whose members would make more than ``max_jobs`` jobs, before any member
    is built (``lengths``: how many values each swept key has)."""
    members = math.prod(lengths)
    jobs = members * experiment_jobs(exp) + len(SWEEP_STEPS)
    if jobs > max_jobs:
        sizes = " × ".join(f"{n:,}" for n in lengths)
        raise ParamsError(
            f"{path}: sweep: {sizes} values make {members:,} members and {jobs:,} jobs, more "
            f"than max_jobs = {max_jobs:,} (suite.yaml); sweep fewer values or raise max_jobs"
        )


def check_suite_jobs(
    suite: dict[str, list[str]],
    experiments: dict[str, dict[str, Any]],
    batched: set[str],
    max_jobs: int,
    path: str | Path,
) -> int:
    """Refuse a suite (suite entry → its experiments) that makes more than ``max_jobs`` jobs,
    counted as ``snakemake -n`` counts them from an empty ``results/``; return the count."""
    jobs = len(SUITE_STEPS) + 1  # the suite's own steps and the target rule `all`
    for name, members in suite.items():
        jobs += sum(experiment_jobs(experiments[m]) for m in members)
        if members != [name]:  # a sweep: its own steps; batched: one training job for all
            jobs += len(SWEEP_STEPS) - (len(members) - 1 if name in batched else 0)
    if jobs > max_jobs:
        count = sum(map(len, suite.values()))
        raise ParamsError(
            f"{path}: experiments: the suite makes {jobs:,} jobs ({count:,} experiments, "
            f"counting each sweep member), more than max_jobs = {max_jobs:,}; list fewer "
            f"experiments or raise max_jobs in {path}"
        )
    return jobs


# Units per hook come from a forward pass, which loads torch (seconds); params are validated
# at every Snakemake start and in every DVC stage, so the answers are kept per user, keyed by
# the model, its group order, the hooks and the code that builds and runs it: torch is loaded
# only for a model not seen before, or after that code changed.
HOOK_UNITS = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "grokscope"


@cache
def _units_per_hook(model_json: str, order: int, hooks: tuple[str, ...]) -> tuple[int, ...]:
    """Units per example of each cached hook (one answer per distinct model: sweep members
    share it)."""
    from grokscope.closure import code_hash

    key = json.dumps([code_hash("cache_activations"), model_json, order, hooks])
    path = HOOK_UNITS / "hook_units.json"
    try:
        known = json.loads(path.read_text())
    except (OSError, ValueError):
        known = {}
    if key not in known:
        known[key] = list(_measure_units(model_json, order, hooks))
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            temporary = path.with_name(f"{path.name}.{os.getpid()}")
            temporary.write_text(json.dumps(known))
            os.replace(temporary, path)  # readers see the old or the new file, never half
        except OSError:
            pass  # a read-only home: measure again next time
    return tuple(known[key])


def _measure_units(model_json: str, order: int, hooks: tuple[str, ...]) -> tuple[int, ...]:
    """Units per example of each hook, from one forward pass on a single pair."""
    import torch

    from grokscope.activations import resolve_hooks
    from grokscope.models import build_model

    model = build_model(json.loads(model_json), order, 0)
    names = resolve_hooks(model.hook_aliases(), list(model.hook_points), list(hooks))
    _, acts = model.run_with_cache(torch.zeros(1, 2, dtype=torch.int64), names)
    return tuple(a[0].numel() for a in acts.values())


def cache_bytes(exp: dict[str, Any], cache: dict[str, Any]) -> tuple[int, int]:
    """(peak memory, disk) bytes to cache ``cache.hooks`` at ``cache.checkpoints`` of ``exp``.

    Every hook is held at once for all order² pairs (float32 + int32 a, b, c), plus a table
    copy of the largest.
    """
    # Only called for experiments whose training fits, so the order is modest here.
    order = group_order(exp["group"]["name"], exp["group"]["n"])
    model = json.dumps(exp["model"], sort_keys=True)
    units = _units_per_hook(model, order, tuple(cache["hooks"]))
    per_hook = [order * order * (4 * u + 12) for u in units]
    if cache["checkpoints"] == "all" and "train" in exp:
        t = exp["train"]
        checkpoints = len(
            checkpoint_epochs(t["epochs"], t["checkpoint_every"], t["log_checkpoints"])
        )
    elif isinstance(cache["checkpoints"], list):
        checkpoints = len(cache["checkpoints"]) + 1
    else:
        checkpoints = 1
    return sum(per_hook) + 2 * max(per_hook), sum(per_hook) * checkpoints


def check_cache(name: str, exp: dict[str, Any], cache: dict[str, Any], path: Path) -> None:
    """Refuse an activation cache that would not fit in memory or on disk, with the estimate."""
    try:
        memory, disk = cache_bytes(exp, cache)
    except ValueError as err:  # an unknown hook name for this model
        raise ParamsError(f"{path}: cache.hooks: {err} (experiment {name})") from None
    have = physical_memory()
    if memory > MEMORY_SHARE * have:
        raise ParamsError(
            f"{path}: cache.hooks: caching these hooks for experiment {name} needs about "
            f"{_count(memory / 2**30)} GiB of memory, more than {MEMORY_SHARE:.0%} of this "
            f"machine's {have / 2**30:.1f} GiB"
        )
    free = shutil.disk_usage(".").free
    if disk > free:
        raise ParamsError(
            f"{path}: cache.checkpoints: caching experiment {name} needs about "
            f"{_count(disk / 2**30)} GiB of disk, more than the {free / 2**30:.1f} GiB free"
        )
