"""Checkpoint format: ``epoch_0001000.safetensors`` (weights) + ``epoch_0001000.json`` (sidecar).

The sidecar holds everything needed to rebuild the model without the params files: the
experiment's params, the epoch and the metrics at that epoch. Safetensors holds tensors only,
so loading a checkpoint never unpickles anything.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from grokscope.errors import ArtifactError
from grokscope.hooks import HookedModule
from grokscope.io import read_json, write_atomic, write_json
from grokscope.models import build_model

FORMAT_VERSION = 1


def checkpoint_stem(epoch: int) -> str:
    return f"epoch_{epoch:07d}"


def save_tensors(path: str | Path, tensors: dict[str, torch.Tensor], meta: dict[str, Any]) -> None:
    """Atomically write ``tensors`` (made contiguous, on CPU) with JSON ``meta`` in the header."""
    cpu = {k: v.detach().to("cpu").contiguous() for k, v in tensors.items()}
    header = {"grokscope": json.dumps(meta, sort_keys=True)}
    write_atomic(path, lambda tmp: save_file(cpu, str(tmp), metadata=header))


def load_tensors(path: str | Path) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """Inverse of :func:`save_tensors`; a missing or corrupt file raises ArtifactError."""
    path = Path(path)
    if not path.exists():
        raise ArtifactError(f"{path}: checkpoint not found")
    try:
        tensors = load_file(str(path))
        from safetensors import safe_open

        with safe_open(str(path), framework="pt") as f:
            meta = json.loads((f.metadata() or {}).get("grokscope", "{}"))
    except (SafetensorError, OSError, ValueError) as err:
        raise ArtifactError(f"{path}: corrupt or truncated safetensors file ({err})") from None
    return tensors, meta


def save_checkpoint(
    directory: str | Path, epoch: int, state: dict[str, torch.Tensor], sidecar: dict[str, Any]
) -> Path:
    """Write the weights and the JSON sidecar of one checkpoint; return the weights' path."""
    directory = Path(directory)
    sidecar = {"format": FORMAT_VERSION, "epoch": epoch, **sidecar}
    path = directory / f"{checkpoint_stem(epoch)}.safetensors"
    save_tensors(path, state, {"format": FORMAT_VERSION, "epoch": epoch})
    write_json(directory / f"{checkpoint_stem(epoch)}.json", sidecar)
    return path


def read_sidecar(path: str | Path) -> dict[str, Any]:
    """The JSON sidecar of a checkpoint (params, order, epoch, metrics), given its
    ``.safetensors`` path; reads no weights."""
    return read_json(Path(path).with_suffix(".json"))


def load_checkpoint(path: str | Path) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """``(state_dict, sidecar)`` of a checkpoint given its ``.safetensors`` path."""
    path = Path(path)
    state, _ = load_tensors(path)
    return state, read_sidecar(path)


def load_model(path: str | Path) -> tuple[HookedModule, dict[str, Any]]:
    """The model of a checkpoint, rebuilt from its sidecar, in eval mode: ``(model, sidecar)``."""
    state, sidecar = load_checkpoint(path)
    for name, tensor in state.items():
        if tensor.is_floating_point() and not torch.isfinite(tensor).all():
            raise ArtifactError(
                f"{path}: weights {name} are not finite (NaN or inf: the run diverged?); "
                "retrain it (a lower train.lr) before analysing it"
            )
    params = sidecar["params"]
    model = build_model(params["model"], sidecar["order"], params["seed"])
    try:
        model.load_state_dict(state)
    except RuntimeError as err:
        first = str(err).splitlines()[0]
        raise ArtifactError(f"{path}: weights do not fit the model ({first})") from None
    return model.eval(), sidecar


def checkpoint_epoch(path: str | Path) -> int:
    """The epoch of a checkpoint file named by :func:`checkpoint_stem`."""
    return int(Path(path).stem.removeprefix("epoch_"))


def list_checkpoints(directory: str | Path) -> list[Path]:
    """The checkpoints in ``directory``, oldest first."""
    return sorted(Path(directory).glob("epoch_*.safetensors"))


def select_checkpoints(directory: str | Path, which: str | list[int]) -> list[Path]:
    """``final``, ``all`` or a list of epochs → checkpoint paths (the final one always)."""
    paths = list_checkpoints(directory)
    if not paths:
        raise ArtifactError(f"{directory}: no checkpoints")
    if which == "all":
        return paths
    epochs = {checkpoint_epoch(p): p for p in paths}
    wanted = set() if which == "final" else set(which)
    missing = sorted(wanted - set(epochs))
    if missing:
        raise ArtifactError(f"{directory}: no checkpoints for epochs {missing}")
    return sorted({epochs[e] for e in wanted} | {paths[-1]})


def final_checkpoint(directory: str | Path) -> Path:
    """The last checkpoint in ``directory``."""
    return select_checkpoints(directory, "final")[0]
