"""Activation cache: every pair (a, b) through a checkpoint, each hooked activation to Parquet.

Layout of one file ``<hook>/epoch_0001000.parquet`` (one file per hook and checkpoint):

- ``a``, ``b``, ``c`` (int32): the pair and its label ``a ∘ b``, row-major over all pairs, so
  row ``a * order + b`` is the pair ``(a, b)`` and ``values.reshape(order, order, ...)`` works;
- one float32 column per unit of the activation, named by its index in the activation's
  per-example shape joined by ``_`` (``"17"`` for neuron 17 of an MLP layer,
  ``"2_0_5"`` for position 2, head 0, dimension 5 of ``blocks.0.attn.hook_z``).

Wide columns keep every unit a plain float32 column that pandas, pyarrow and duckdb read
directly, and float32 round-trips exactly. The file's metadata (key ``grokscope``) records the
group, model, checkpoint epoch, hook name, the per-example shape and where the answer position
is in it (``answer_axis``, ``answer_position``: the model's declaration, see
:class:`grokscope.hooks.HookedModule`). ``hooks.json`` beside the hook directories records
which hook each alias (``neurons``, ``logits``, …) resolved to.

:class:`ActivationCache` reads a cache directory: by hook name or alias, at the answer
position, only the columns asked for.
"""

from __future__ import annotations

import itertools
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from grokscope.errors import ArtifactError
from grokscope.io import parquet_metadata, read_json, read_parquet

INDEX_FILE = "hooks.json"


def resolve_hooks(aliases: dict[str, str | None], points: list[str], names: list[str]) -> list[str]:
    """Hook names with aliases resolved; aliases the model lacks (``None``) are dropped,
    unknown explicit names are an error.

    Args:
        aliases: the model's :meth:`~grokscope.hooks.HookedModule.hook_aliases`.
        points: the model's hook point names.
        names: what params ask for (names or aliases).
    """
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


def activation_table(pairs: np.ndarray, values: np.ndarray) -> pd.DataFrame:
    """Wide table of one activation over all pairs.

    Args:
        pairs: ``(order², 3)`` rows ``a, b, c`` in row-major order
            (:func:`grokscope.data.all_pairs`).
        values: the activation over those pairs: ``(order², *unit_shape)``.
    """
    pairs = pairs.astype(np.int32)
    flat = np.ascontiguousarray(values, dtype=np.float32).reshape(len(pairs), -1)
    columns = {"a": pairs[:, 0], "b": pairs[:, 1], "c": pairs[:, 2]}
    units = pd.DataFrame(flat, columns=unit_names(tuple(values.shape[1:])), copy=False)
    return pd.concat([pd.DataFrame(columns), units], axis=1)


def read_activation(path: str | Path) -> tuple[np.ndarray, dict[str, Any]]:
    """``(values, metadata)`` of one cached activation; ``values``: ``(order², *unit_shape)``
    float32, every position."""
    meta = _meta(path)
    df = read_parquet(path)
    values = _finite(df[df.columns[3:]].to_numpy(dtype=np.float32), path)
    return values.reshape(len(df), *meta["unit_shape"]), meta


def _finite(values: np.ndarray, path: str | Path) -> np.ndarray:
    """``values`` unchanged; NaN or inf is an ArtifactError (an analysis must not draw it)."""
    if not np.isfinite(values).all():
        raise ArtifactError(
            f"{path}: activations are not finite (NaN or inf: the checkpoint's weights "
            "overflowed?); rebuild the activation cache from a finite checkpoint"
        )
    return values


def _meta(path: str | Path) -> dict[str, Any]:
    meta = parquet_metadata(path)
    if "unit_shape" not in meta:
        raise ArtifactError(f"{path}: not a grokscope activation file (no unit_shape metadata)")
    return meta


def answer_columns(meta: dict[str, Any]) -> list[str]:
    """The unit columns of an activation at the answer position, in unit order."""
    shape = list(meta["unit_shape"])
    axis = meta.get("answer_axis")
    ranges = [range(n) for n in shape]
    if axis is not None:
        ranges[axis] = range(meta["answer_position"], meta["answer_position"] + 1)
    return ["_".join(map(str, idx)) for idx in itertools.product(*ranges)]


class ActivationCache:
    """A cache directory written by the ``cache_activations`` step.

    ``cache.read("neurons")`` is the final checkpoint's hidden neurons at the answer position
    as ``(order, order, units)``; ``units=[...]`` reads only those columns.
    """

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)
        index = read_json(self.directory / INDEX_FILE)
        self.aliases: dict[str, str] = index["aliases"]
        self.hooks: list[str] = index["hooks"]

    def has(self, name: str) -> bool:
        """Whether ``name`` (a hook or an alias) was cached."""
        return self.aliases.get(name, name) in self.hooks

    def files(self, name: str) -> list[Path]:
        """Every cached checkpoint of hook ``name`` (or alias), oldest first."""
        hook = self.aliases.get(name, name)
        files = sorted((self.directory / hook).glob("epoch_*.parquet"))
        if not files:
            raise ArtifactError(
                f"{self.directory / hook}: no cached activations (is it in cache.hooks?)"
            )
        return files

    def file(self, name: str, epoch: int | None = None) -> Path:
        """The cached file of ``name`` at ``epoch`` (default: the last checkpoint)."""
        files = self.files(name)
        if epoch is None:
            return files[-1]
        for path in files:
            if int(path.stem.removeprefix("epoch_")) == epoch:
                return path
        raise ArtifactError(f"{self.directory}: {name} was not cached at epoch {epoch}")

    def meta(self, name: str, epoch: int | None = None) -> dict[str, Any]:
        """The metadata of one cached file (group, model, epoch, hook, shapes)."""
        return _meta(self.file(name, epoch))

    def read(
        self, name: str, units: list[int] | None = None, epoch: int | None = None
    ) -> np.ndarray:
        """``name`` at the answer position over all pairs: ``(order, order, units)`` float32,
        indexed ``(a, b, unit)``; ``units`` selects units (default: all)."""
        path = self.file(name, epoch)
        columns = answer_columns(_meta(path))
        if units is not None:
            columns = [columns[u] for u in units]
        df = read_parquet(path, columns=columns)
        order = math.isqrt(len(df))
        # A copy: pandas may hand out a read-only view, which torch.from_numpy warns about.
        values = np.array(df.to_numpy(dtype=np.float32), copy=True)
        return _finite(values, path).reshape(order, order, len(columns))
