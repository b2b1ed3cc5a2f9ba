"""Crash-safe resumption of a training run.

The run's scratch directory (``TrainPaths.resume``) holds the checkpoints written so far and
one state file, ``state.safetensors``: the model, the optimizer's moments, the epoch, the
metric rows and the params, written atomically together after every checkpoint. A killed
run started again with the same params goes on from that state and ends with the same bytes
as an uninterrupted one (tested with ``kill -9`` at random points); a state of other params
(changed after a crash or a divergence) is not this run's, and the run starts over.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import torch

from grokscope.checkpoints import load_tensors, save_tensors

STATE = "state.safetensors"


def save_state(
    scratch: Path,
    exp: dict[str, Any],
    model: torch.nn.Module,
    opt: torch.optim.Optimizer,
    epoch: int,
    rows: list[dict[str, float]],
) -> None:
    """Write the state to go on from after ``epoch`` (its checkpoint is already written)."""
    names = {id(p): n for n, p in model.named_parameters()}
    state = {f"model.{k}": v for k, v in model.state_dict().items()}
    for p, moments in opt.state.items():
        for key, value in moments.items():
            state[f"optim.{names[id(p)]}.{key}"] = torch.as_tensor(value)
    save_tensors(scratch / STATE, state, {"epoch": epoch, "rows": rows, "params": exp})


def resume(
    scratch: Path, exp: dict[str, Any], model: torch.nn.Module, opt: torch.optim.Optimizer
) -> tuple[int, list[dict[str, float]]]:
    """Load the saved state of this run into ``model`` and ``opt``, if there is one; returns
    ``(epoch to go on from, metric rows so far)``, ``(0, [])`` to start over."""
    # A kill during a write can leave temporary files behind (ours, and safetensors' own
    # `.tmpXXXXXX`): every real file here is `epoch_*` or the state, so drop any dotfile
    # before resuming, and never publish one.
    for stale in scratch.rglob(".*") if scratch.exists() else []:
        if stale.is_file():
            stale.unlink()
    # A state without its checkpoints means a crash while publishing: start over.
    if not (scratch / STATE).exists() or not (scratch / "checkpoints").exists():
        return 0, []
    tensors, meta = load_tensors(scratch / STATE)
    if meta.get("params") != exp:
        shutil.rmtree(scratch)
        return 0, []
    model.load_state_dict({k[6:]: v for k, v in tensors.items() if k.startswith("model.")})
    for name, p in model.named_parameters():
        prefix = f"optim.{name}."
        moments = {
            k[len(prefix) :]: v.to(p.device) for k, v in tensors.items() if k.startswith(prefix)
        }
        if moments:
            opt.state[p] = (
                moments  # fused AdamW keeps every state tensor, `step` too, on p's device
            )
    return meta["epoch"], meta["rows"]
