"""Up-front refusals of work that cannot fit: memory and disk estimates.

Each check raises a one-line :class:`~grokscope.errors.ParamsError` naming the params file,
the fields that drive the estimate, and the estimate itself, before any job starts.
"""

from __future__ import annotations

import json
import os
import shutil
from functools import cache
from pathlib import Path
from typing import Any

from grokscope.errors import ParamsError

# Refuse work whose rough working set exceeds this share of physical memory.
MEMORY_SHARE = 0.5


def physical_memory() -> int:
    """Bytes of RAM on this machine."""
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def _count(x: float) -> str:
    """1,234 for ordinary numbers, 1.2e+15 for astronomical ones (n! grows fast)."""
    return f"{x:,.0f}" if x < 1e12 else f"{float(x):.1e}"


def training_bytes(order: int, model: dict[str, Any]) -> int:
    """Rough peak bytes to train ``model`` full-batch on all order² pairs (float32).

    Counts the floats each pair keeps alive in a step (the model's own estimate) three times
    (forward, saved for backward, gradient) plus the int64 dataset; good to a factor of two,
    which is all a refusal needs.
    """
    from grokscope.models import MODELS

    per_pair = MODELS[model["kind"]].floats_per_pair(model, order)
    return order * order * (3 * 4 * per_pair + 3 * 8)


def check_training(exp: dict[str, Any], order: int, path: str | Path) -> None:
    """Refuse training that would not fit in memory, naming the group and the model's width."""
    from grokscope.models import MODELS

    need, have = training_bytes(order, exp["model"]), physical_memory()
    if need <= MEMORY_SHARE * have:
        return
    widths = MODELS[exp["model"]["kind"]].width_fields
    sizes = ", ".join(f"model.{w} = {exp['model'][w]}" for w in widths)
    raise ParamsError(
        f"{path}: group.n: training on all "
        f"{_count(order * order)} pairs of a group of order {_count(order)} with {sizes} "
        f"needs about {_count(need / 2**30)} GiB, more than {MEMORY_SHARE:.0%} of this "
        f"machine's {have / 2**30:.1f} GiB"
    )


@cache
def _units_per_hook(model_json: str, order: int, hooks: tuple[str, ...]) -> tuple[int, ...]:
    """Units per example of each cached hook, from one forward pass on a single pair (one
    per distinct model: sweep members share it)."""
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
    from grokscope.checkpoints import checkpoint_epochs
    from grokscope.groups import group_order

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
