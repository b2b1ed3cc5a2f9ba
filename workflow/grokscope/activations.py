"""Activation cache: every pair (a, b) through a checkpoint, each hooked activation to Parquet.

Layout of one file ``<hook>/epoch_0001000.parquet`` (one file per hook and checkpoint):

- ``a``, ``b``, ``c`` (int32): the pair and its label ``a ∘ b``, row-major over all pairs, so
  row ``a * order + b`` is the pair ``(a, b)`` and ``values.reshape(order, order, ...)`` works;
- one float32 column per unit of the activation, named by its index in the activation's
  per-example shape joined by ``_`` (``"17"`` for neuron 17 of an MLP layer,
  ``"2_0_5"`` for position 2, head 0, dimension 5 of ``blocks.0.attn.hook_z``).

Wide columns keep every unit a plain float32 column that pandas, pyarrow and duckdb read
directly, and float32 round-trips exactly. The file's metadata (key ``grokscope``) records the
group, model, experiment, checkpoint epoch, hook name and the per-example shape.
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from grokscope.data import all_pairs
from grokscope.groups import Group
from grokscope.hooks import HookedModule
from grokscope.io import ArtifactError, parquet_metadata, read_parquet


def hook_aliases(model: HookedModule) -> dict[str, str | None]:
    """Short names for params: ``neurons`` (hidden layer), ``neurons_pre`` (its input),
    ``logits`` and ``resid`` (residual stream after the block). ``None``: not in this model."""
    pre = model.neuron_hook.replace("hook_post", "hook_pre")
    resid = "blocks.0.hook_resid_post"
    points = model.hook_points
    return {
        "neurons": model.neuron_hook,
        "neurons_pre": pre if pre != model.neuron_hook and pre in points else None,
        "logits": "hook_logits",
        "resid": resid if resid in points else None,
    }


def resolve_hooks(model: HookedModule, names: list[str]) -> list[str]:
    """Hook names with aliases resolved; aliases the model lacks are dropped, unknown
    explicit names are an error."""
    points, aliases = model.hook_points, hook_aliases(model)
    out = []
    for name in names:
        real = aliases.get(name, name)
        if real is None:
            continue
        if real not in points:
            raise ValueError(f"no hook {name!r} in this model; it has {sorted(points)}")
        out.append(real)
    return list(dict.fromkeys(out))


def unit_names(shape: tuple[int, ...]) -> list[str]:
    """Column names for a per-example activation of ``shape`` (row-major unit order)."""
    return ["_".join(map(str, idx)) for idx in itertools.product(*map(range, shape))]


def activation_table(group: Group, values: torch.Tensor) -> pd.DataFrame:
    """Wide table of one activation over all pairs.

    Args:
        group: the group whose pairs were run, row-major (see :func:`grokscope.data.all_pairs`).
        values: activation over all pairs, row-major: ``(order², *unit_shape)``.
    """
    pairs = all_pairs(group).numpy().astype(np.int32)  # (order², 3): a, b, c
    flat = values.detach().to("cpu", torch.float32).reshape(len(pairs), -1).numpy()
    columns = {"a": pairs[:, 0], "b": pairs[:, 1], "c": pairs[:, 2]}
    units = pd.DataFrame(flat, columns=unit_names(tuple(values.shape[1:])), copy=False)
    return pd.concat([pd.DataFrame(columns), units], axis=1)


def read_activation(path: str | Path) -> tuple[torch.Tensor, dict[str, Any]]:
    """``(values, metadata)`` of one cached activation; ``values``: ``(order², *unit_shape)``."""
    meta = parquet_metadata(path)
    if "unit_shape" not in meta:
        raise ArtifactError(f"{path}: not a grokscope activation file (no unit_shape metadata)")
    df = read_parquet(path)
    units = df.columns[3:]
    values = torch.tensor(df[units].to_numpy(dtype=np.float32))
    return values.reshape(len(df), *meta["unit_shape"]), meta
