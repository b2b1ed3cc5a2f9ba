"""Train K seeds of one experiment as one stacked model (``torch.func`` + ``torch.vmap``).

The K experiments must be identical except for ``seed`` (which sets both the split and the
initialisation). Each model's parameters are stacked along a new leading dimension,
``(K, *shape)``; the forward pass is ``torch.vmap`` of ``functional_call(model.fast_forward)``
over ``(params, buffers, x, y)``; the loss is the sum over seeds of each seed's mean
cross-entropy (log-softmax in float64, as a single run's:
:func:`grokscope.losses.cross_entropy64`), so seed k's gradient is exactly its single-run
gradient; and one AdamW over the stacked tensors equals K independent AdamWs (AdamW is
elementwise). Hence the weights, metrics and files equal K runs of
:func:`grokscope.train.train` up to float rounding (tested in ``tests/test_batched.py``).
Rounding differs only where the single run takes a fused path that vmap cannot: the MLP's
loss on the CPU (``OneLayerMLP.fast_loss``, a hand-written backward). A long run amplifies
those ulps once the model starts to generalise, so a batched MLP member on the CPU is the
same experiment as its single run, not the same bytes.

On a CPU this gives no per-seed speed-up (one model is already near matmul peak); it pays off
on a GPU, where one small model leaves the device mostly idle.
"""

from __future__ import annotations

import copy
import shutil
from typing import Any

import pandas as pd
import torch
from torch import nn
from torch.func import functional_call, stack_module_state

from grokscope.checkpoints import save_checkpoint
from grokscope.curves import METRIC_COLUMNS
from grokscope.families import group_order
from grokscope.hooks import HookedModule
from grokscope.losses import cross_entropy64
from grokscope.metrics import loss_and_accuracy
from grokscope.models import build_model
from grokscope.schedule import checkpoint_epochs
from grokscope.train import (
    TrainPaths,
    check_finite,
    make_optimizer,
    pick_device,
    publish_outputs,
    run_epochs,
    split_tensors,
)

Tensors = dict[str, torch.Tensor]


class _FastForward(nn.Module):
    """Wraps a model so that calling it (as ``functional_call`` does) runs ``fast_forward``."""

    def __init__(self, model: HookedModule) -> None:
        super().__init__()
        self.model = model

    def forward(self, pairs: torch.Tensor) -> torch.Tensor:
        return self.model.fast_forward(pairs)  # (batch, order)


def _check_same_but_seed(exps: list[dict[str, Any]]) -> None:
    if not exps:
        raise ValueError("train_batched needs at least one experiment")
    strip = [{k: v for k, v in exp.items() if k != "seed"} for exp in exps]
    for i, other in enumerate(strip[1:], start=1):
        if other != strip[0]:
            raise ValueError(
                f"experiment {i} (seed {exps[i]['seed']}) differs from experiment 0 in more than "
                "its seed; a batched run needs identical experiments except for `seed`"
            )


def _stack_splits(
    datasets: list[pd.DataFrame], device: torch.device
) -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
    """``{"train": (x, y), "test": (x, y)}`` with ``x (K, n, 2)``, ``y (K, n)`` per split."""
    per_seed = [split_tensors(d, device) for d in datasets]
    out = {}
    for split in ("train", "test"):
        sizes = {len(s[split][1]) for s in per_seed}
        if len(sizes) != 1:
            raise ValueError(f"{split} splits differ in size across seeds: {sorted(sizes)}")
        out[split] = (
            torch.stack([s[split][0] for s in per_seed]),
            torch.stack([s[split][1] for s in per_seed]),
        )
    return out


def train_batched(
    exps: list[dict[str, Any]],
    datasets: list[pd.DataFrame],
    paths: list[TrainPaths],
    progress: bool = True,
) -> list[dict[str, Any]]:
    """Train K experiments that differ only in ``seed`` as one stacked model.

    Writes, for each seed, the same outputs as :func:`grokscope.train.train` (checkpoint
    directory with safetensors + JSON sidecars, metrics CSV, final-metrics JSON), equal to a
    single run's up to float rounding. Resume is not supported: each seed's
    ``paths[k].resume`` directory is cleared at the start (any single-run resume state in it
    is discarded) and used only as scratch space for the checkpoints until they are published.

    Args:
        exps: K experiment params (``group``, ``model``, ``train``, ``data``, ``seed`` blocks),
            identical except for ``seed``.
        datasets: K tables (columns ``a, b, c``, ``split``), ``datasets[k]`` made with
            ``exps[k]["seed"]``; every seed's train split has the same size
            (``int(frac_train · order²)``), so the inputs stack to ``(K, n_train, 2)``.
        paths: K output locations, one per seed, all distinct.
        progress: show a progress bar (on stderr).

    Returns:
        The K final-metrics dicts, in the order of ``exps``.
    """
    _check_same_but_seed(exps)
    k_seeds = len(exps)
    if len(datasets) != k_seeds or len(paths) != k_seeds:
        raise ValueError(
            f"need one dataset and one TrainPaths per experiment: got {k_seeds} experiments, "
            f"{len(datasets)} datasets, {len(paths)} paths"
        )
    if len({p.resume.resolve() for p in paths}) != k_seeds:
        raise ValueError("every seed needs its own output paths")
    exp0, cfg = exps[0], exps[0]["train"]
    device = pick_device(cfg["device"])
    order = group_order(exp0["group"]["name"], exp0["group"]["n"])

    splits = _stack_splits(datasets, device)
    (train_x, train_y), (test_x, test_y) = splits["train"], splits["test"]  # (K, n, 2), (K, n)

    models = [build_model(exp["model"], order, exp["seed"]).to(device) for exp in exps]
    state_keys = list(models[0].state_dict())
    # params[name], buffers[name]: (K, *shape) leaf tensors (params require grad).
    params, buffers = stack_module_state(models)
    stacked = params | buffers  # the same tensors, which the optimizer updates in place
    base = _FastForward(copy.deepcopy(models[0]).to("meta"))
    del models

    def logits_of(p: Tensors, b: Tensors, x: torch.Tensor) -> torch.Tensor:
        # one seed: p, b unstacked; x (n, 2) → logits (n, order)
        named = {f"model.{k}": v for k, v in p.items()} | {f"model.{k}": v for k, v in b.items()}
        return functional_call(base, named, (x,))

    def seed_loss(p: Tensors, b: Tensors, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return cross_entropy64(logits_of(p, b, x), y)  # () mean over the seed's train pairs

    batched_logits = torch.vmap(logits_of)  # (K, n, 2) → (K, n, order)
    batched_loss = torch.vmap(seed_loss)  # → (K,)

    opt = make_optimizer(params.values(), cfg)

    scratch = [p.resume / "checkpoints" for p in paths]
    for p in paths:
        if p.resume.exists():
            shutil.rmtree(p.resume)
    rows: list[list[dict[str, float]]] = [[] for _ in range(k_seeds)]
    saves = set(checkpoint_epochs(cfg["epochs"], cfg["checkpoint_every"], cfg["log_checkpoints"]))

    @torch.no_grad()
    def record(epoch: int) -> None:
        train_logits = batched_logits(params, buffers, train_x)  # (K, n_train, order)
        test_logits = batched_logits(params, buffers, test_x)  # (K, n_test, order)
        for k in range(k_seeds):
            train_loss, train_acc = loss_and_accuracy(train_logits[k], train_y[k])
            test_loss, test_acc = loss_and_accuracy(test_logits[k], test_y[k])
            values = [epoch, train_loss, train_acc, test_loss, test_acc]
            rows[k].append(dict(zip(METRIC_COLUMNS, values, strict=True)))
            check_finite(epoch, rows[k][-1], cfg, f" (seed {exps[k]['seed']})")
        for k in range(k_seeds):
            if epoch in saves:
                state = {name: stacked[name][k] for name in state_keys}
                sidecar = {"params": exps[k], "order": order, "metrics": rows[k][-1]}
                save_checkpoint(scratch[k], epoch, state, sidecar)

    record(0)

    def loss() -> torch.Tensor:
        # sum of per-seed means: seed k's gradient is its single-run gradient. No host sync.
        return batched_loss(params, buffers, train_x, train_y).sum()

    def postfix() -> str:
        return "test_acc=" + " ".join(f"{r[-1]['test_acc']:.3f}" for r in rows)

    run_epochs(opt, cfg, loss, record, range(cfg["epochs"]), saves, progress, postfix)

    return [publish_outputs(p, s, r) for p, s, r in zip(paths, scratch, rows, strict=True)]
