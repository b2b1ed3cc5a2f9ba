"""Full-batch AdamW training with checkpoints, metrics and crash-safe resumption.

Reads top to bottom: pick the device, build model and optimizer, restore the last resume
state if one exists, then loop. Nothing syncs the host inside the loop except on evaluation
epochs (every ``eval_every``) and checkpoint epochs, which is what makes CPU training fast.

Epoch ``e`` means "after ``e`` optimizer steps": the checkpoint at epoch 0 is the
initialisation, and the metrics at epoch ``e`` are measured on those weights.
"""

from __future__ import annotations

import math
import shutil
import sys
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import torch
from tqdm import tqdm

from grokscope.checkpoints import save_checkpoint
from grokscope.curves import METRIC_COLUMNS, summarize
from grokscope.errors import MachineError, TrainingError
from grokscope.families import group_order
from grokscope.hooks import HookedModule
from grokscope.io import write_json, write_text
from grokscope.metrics import loss_and_accuracy
from grokscope.models import build_model
from grokscope.resume import resume, save_state
from grokscope.schedule import checkpoint_epochs


def pick_device(choice: str) -> torch.device:
    """``auto`` → CUDA when present, else CPU; ``cuda`` without a GPU is a MachineError."""
    if choice == "cuda" and not torch.cuda.is_available():
        raise MachineError(
            "train.device is 'cuda' but this machine has no CUDA device that torch can use "
            f"(torch {torch.__version__}); set train.device: auto (CUDA when present) or cpu, "
            "or run the job on a GPU node with a CUDA build of torch"
        )
    if choice == "auto":
        choice = "cuda" if torch.cuda.is_available() else "cpu"
    return torch.device(choice)


def warmup_lr(lr: float, step: int, warmup_steps: int) -> float:
    """Linear warm-up ``lr * min(step / warmup_steps, 1)`` as in the published run (step 0 → 0)."""
    return lr if warmup_steps == 0 else lr * min(step / warmup_steps, 1.0)


def check_finite(epoch: int, row: dict[str, float], cfg: dict[str, Any], who: str = "") -> None:
    """Stop training when an evaluated loss is not finite: once NaN or inf, every later step
    is too, and nothing from such a run should be published.

    Args:
        epoch: the evaluated epoch.
        row: its metrics (:data:`METRIC_COLUMNS`).
        cfg: the ``train`` block (named in the message: what to change).
        who: which run, for a batched run's member (e.g. ``" (seed 3)"``).
    """
    for split in ("train", "test"):
        loss = row[f"{split}_loss"]
        if not math.isfinite(loss):
            raise TrainingError(
                f"training diverged at epoch {epoch}{who}: {split} loss is {loss}; lower "
                f"train.lr (now {cfg['lr']:g}) or train.weight_decay (now "
                f"{cfg['weight_decay']:g}), or raise train.warmup_steps (now "
                f"{cfg['warmup_steps']}); nothing from this run was published"
            )


@torch.no_grad()
def evaluate(model: HookedModule, x: torch.Tensor, y: torch.Tensor) -> tuple[float, float]:
    """(cross-entropy, accuracy) on pairs ``x (batch, 2)`` with labels ``y (batch,)``."""
    return loss_and_accuracy(model.fast_forward(x), y)


def split_tensors(
    dataset: pd.DataFrame, device: torch.device | str = "cpu"
) -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
    """``{"train": (x, y), "test": (x, y)}`` with ``x (n, 2)`` pairs, ``y (n,)`` labels."""
    out = {}
    for split in ("train", "test"):
        rows = dataset[dataset["split"] == split]
        x = torch.tensor(rows[["a", "b"]].to_numpy(), dtype=torch.int64, device=device)
        y = torch.tensor(rows["c"].to_numpy(), dtype=torch.int64, device=device)
        out[split] = (x, y)
    return out


@dataclass
class TrainPaths:
    """Where one training job writes: the checkpoint directory, the metrics table (CSV) and
    the final metrics (JSON). ``resume`` is scratch space kept across crashes: the resume
    state and the checkpoints written so far, published (moved into place) only when
    training finishes."""

    checkpoints: Path
    metrics_csv: Path
    metrics_json: Path
    resume: Path

    @classmethod
    def beside(cls, checkpoints: Path, metrics_csv: Path, metrics_json: Path) -> TrainPaths:
        """The pipeline's layout: the scratch space beside the checkpoint directory
        (``.<name>.resume``)."""
        resume = checkpoints.parent / f".{checkpoints.name}.resume"
        return cls(checkpoints, metrics_csv, metrics_json, resume)


def make_optimizer(params: Iterable[torch.Tensor], cfg: dict[str, Any]) -> torch.optim.AdamW:
    """AdamW with the ``train`` block's hyperparameters, as one fused kernel per parameter.

    Fused AdamW runs on CUDA and (torch ≥ 2.4) on the CPU, and is faster than ``foreach``
    on the small CPU steps here. AdamW is elementwise, so the same call
    serves one model's parameters or K seeds' stacked ``(K, ...)`` parameters
    (:mod:`grokscope.batched`).
    """
    return torch.optim.AdamW(
        params,
        lr=cfg["lr"],
        betas=tuple(cfg["betas"]),
        weight_decay=cfg["weight_decay"],
        fused=True,
    )


def run_epochs(
    opt: torch.optim.Optimizer,
    cfg: dict[str, Any],
    loss: Callable[[], torch.Tensor],
    record: Callable[[int], None],
    epochs: range,
    saves: Collection[int] = (),
    progress: bool = False,
    postfix: Callable[[], str] | None = None,
    tune: Callable[[], None] | None = None,
) -> None:
    """The epoch loop of both trainers (and the benchmark): warm-up, one step, evaluate.

    Epoch ``e`` takes one optimizer step on ``loss()`` (no host sync) and then, if ``e + 1``
    is a multiple of ``eval_every`` or in ``saves``, calls ``record(e + 1)``, which evaluates
    and checkpoints. ``postfix()`` is shown on the progress bar after each record, and
    ``tune()`` (e.g. :class:`grokscope.process.IdleCores`, which decides how often it looks)
    may adjust the process after every epoch.
    """
    bar = tqdm(
        total=cfg["epochs"],
        initial=epochs.start,
        disable=not progress,
        unit="epoch",
        mininterval=2.0,
    )
    for epoch in epochs:
        for group in opt.param_groups:
            group["lr"] = warmup_lr(cfg["lr"], epoch, cfg["warmup_steps"])
        loss().backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
        bar.update(1)
        done = epoch + 1
        if done % cfg["eval_every"] == 0 or done in saves:
            record(done)
            if postfix is not None:
                bar.set_postfix_str(postfix())
        if tune is not None:
            tune()
    bar.close()


def publish_outputs(
    paths: TrainPaths, scratch_ckpts: Path, rows: list[dict[str, float]]
) -> dict[str, Any]:
    """Move the finished checkpoint directory into place, write the tables, drop the scratch.

    Args:
        paths: the job's output locations.
        scratch_ckpts: directory of the checkpoints written during training.
        rows: one dict per evaluated epoch with keys :data:`METRIC_COLUMNS`.

    Returns:
        The final metrics dict (:func:`summarize`), also written to ``paths.metrics_json``.
    """
    if paths.checkpoints.exists():
        shutil.rmtree(paths.checkpoints)
    paths.checkpoints.parent.mkdir(parents=True, exist_ok=True)
    scratch_ckpts.rename(paths.checkpoints)
    table = pd.DataFrame(rows, columns=METRIC_COLUMNS).astype({"epoch": int})
    write_text(paths.metrics_csv, table.to_csv(index=False, float_format="%.9g"))
    final = summarize(table)
    write_json(paths.metrics_json, final)
    shutil.rmtree(paths.resume)
    return final


def train(
    exp: dict[str, Any],
    dataset: pd.DataFrame,
    paths: TrainPaths,
    progress: bool = True,
    tune: Callable[[], None] | None = None,
) -> dict[str, Any]:
    """Train one experiment and write checkpoints, the metrics table and the final metrics.

    Args:
        exp: the experiment's params (``group``, ``model``, ``train``, ``seed`` blocks).
        dataset: table with int columns ``a, b, c`` and ``split`` in {train, test}.
        paths: output locations; ``paths.resume`` holds the state to resume from.
        progress: show a progress bar (on stderr).
        tune: called after every epoch (:func:`run_epochs`).

    Returns:
        The final metrics dict (also written to ``paths.metrics_json``).
    """
    cfg = exp["train"]
    device = pick_device(cfg["device"])
    print(f"training on {device}", file=sys.stderr)
    order = group_order(exp["group"]["name"], exp["group"]["n"])

    splits = split_tensors(dataset, device)
    (train_x, train_y), (test_x, test_y) = splits["train"], splits["test"]

    model = build_model(exp["model"], order, exp["seed"]).to(device)
    opt = make_optimizer(model.parameters(), cfg)

    # An interrupted run of these params goes on from its last saved state.
    scratch_ckpts = paths.resume / "checkpoints"
    start, rows = resume(paths.resume, exp, model, opt)
    sidecar = {"params": exp, "order": order}
    saves = set(checkpoint_epochs(cfg["epochs"], cfg["checkpoint_every"], cfg["log_checkpoints"]))

    def record(epoch: int) -> None:
        train_loss, train_acc = evaluate(model, train_x, train_y)
        test_loss, test_acc = evaluate(model, test_x, test_y)
        values = [epoch, train_loss, train_acc, test_loss, test_acc]
        row = dict(zip(METRIC_COLUMNS, values, strict=True))
        check_finite(epoch, row, cfg)  # before anything is saved: the resume state stays
        rows.append(row)
        if epoch in saves:
            save_checkpoint(
                scratch_ckpts, epoch, model.state_dict(), {**sidecar, "metrics": rows[-1]}
            )
            save_state(paths.resume, exp, model, opt, epoch, rows)

    if start == 0:
        record(0)

    def loss() -> torch.Tensor:
        return model.fast_loss(train_x, train_y)  # full batch

    def postfix() -> str:
        return f"train={rows[-1]['train_loss']:.3g}, test_acc={rows[-1]['test_acc']:.3f}"

    epochs = range(start, cfg["epochs"])
    run_epochs(opt, cfg, loss, record, epochs, saves, progress, postfix, tune)

    # Publish: move the finished checkpoint directory into place, then the tables.
    return publish_outputs(paths, scratch_ckpts, rows)
