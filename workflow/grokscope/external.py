"""Checkpoints trained elsewhere, converted into grokscope's format and model.

``published_mod113``: the file format of the published mod-113 grokking run ("Progress
measures for grokking via mechanistic interpretability"): a dict with ``config``,
``state_dicts`` (weights in that code's layout), ``train_losses`` (one per epoch) and
``test_losses`` (every ``len(train_losses) / len(test_losses)`` epochs). Its layouts:

    embed.W_E (d_model, p+1)        → embed.W_E (p+1, d_model)
    pos_embed.W_pos (3, d_model)    → unchanged
    attn.W_Q/K/V (head, d_head, d_model) → (head, d_model, d_head)
    attn.W_O (d_model, head·d_head) → (head, d_head, d_model)
    mlp.W_in (d_mlp, d_model)       → (d_model, d_mlp)
    mlp.W_out (d_model, d_mlp)      → (d_mlp, d_model)
    unembed.W_U (d_model, p+1)      → (d_model, p): the '=' output column is dropped (it is never
                                      a label; on the reference checkpoint dropping it changes the
                                      losses by < 1e-9 relative)

Files are read with ``torch.load(weights_only=True)``: nothing but tensors and plain
containers is unpickled, and a file that needs more is refused.
"""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import pandas as pd
import torch

from grokscope.curves import METRIC_COLUMNS
from grokscope.errors import ArtifactError

REQUIRED_KEYS = {"config", "state_dicts", "train_losses", "test_losses"}


def load_untrusted(path: str | Path) -> Any:
    """``torch.load`` that unpickles only tensors and plain containers; clear errors."""
    path = Path(path)
    if not path.exists():
        raise ArtifactError(f"{path}: file not found")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as err:
        reason = str(err).splitlines()[0][:200]
        raise ArtifactError(
            f"{path}: refused: loading it would unpickle arbitrary objects ({reason})"
        ) from None
    except (RuntimeError, EOFError, OSError, ValueError) as err:
        raise ArtifactError(f"{path}: not a readable torch file ({err})") from None


def convert_published_mod113(
    raw: dict[str, Any], order: int, n_heads: int
) -> dict[str, torch.Tensor]:
    """The last state dict of a published-format file in grokscope's Transformer layout."""
    sd = raw["state_dicts"][-1]
    d_model = sd["embed.W_E"].shape[0]
    d_head = d_model // n_heads
    return {
        "embed.W_E": sd["embed.W_E"].T.contiguous(),
        "pos_embed.W_pos": sd["pos_embed.W_pos"],
        **{
            f"blocks.0.attn.{w}": sd[f"blocks.0.attn.{w}"].transpose(1, 2).contiguous()
            for w in ("W_Q", "W_K", "W_V")
        },
        "blocks.0.attn.W_O": sd["blocks.0.attn.W_O"]
        .reshape(d_model, n_heads, d_head)
        .permute(1, 2, 0)
        .contiguous(),
        "blocks.0.attn.mask": torch.tril(torch.ones(3, 3, dtype=torch.bool)),
        "blocks.0.mlp.W_in": sd["blocks.0.mlp.W_in"].T.contiguous(),
        "blocks.0.mlp.b_in": sd["blocks.0.mlp.b_in"],
        "blocks.0.mlp.W_out": sd["blocks.0.mlp.W_out"].T.contiguous(),
        "blocks.0.mlp.b_out": sd["blocks.0.mlp.b_out"],
        "unembed.W_U": sd["unembed.W_U"][:, :order].contiguous(),
    }


def check_published_mod113(raw: Any, path: Path, group: dict[str, Any]) -> int:
    """Check a loaded file is a published-format checkpoint of ``group``; return its ``p``."""
    if not isinstance(raw, dict) or not REQUIRED_KEYS <= set(raw):
        have = sorted(raw) if isinstance(raw, dict) else type(raw).__name__
        raise ArtifactError(
            f"{path}: not a published_mod113 file (needs {sorted(REQUIRED_KEYS)}, has {have})"
        )
    order = raw["config"]["p"]
    if order != group["n"] or group["name"] != "cyclic":
        raise ArtifactError(f"{path}: trained on p = {order}, params say {group}")
    return order


def logged_curves(raw: dict[str, Any]) -> pd.DataFrame:
    """The file's loss curves as a metrics table, at the epochs where both were logged.

    Accuracies were not logged; they are NaN except where grokscope measures them.
    """
    train, test = raw["train_losses"], raw["test_losses"]
    every = len(train) // len(test)
    epochs = range(0, len(train), every)
    return pd.DataFrame(
        {
            "epoch": list(epochs),
            "train_loss": [float(train[e]) for e in epochs],
            "train_acc": float("nan"),
            "test_loss": [float(t) for t in test[: len(epochs)]],
            "test_acc": float("nan"),
        },
        columns=METRIC_COLUMNS,
    )
