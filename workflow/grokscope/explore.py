"""Exploring a built run in a notebook: ``run = grokscope.open_run("results/mlp_d53")``.

A :class:`Run` reads what the pipeline wrote under ``results/<experiment>/`` and nothing
else: the params from the final checkpoint's sidecar (so a pulled run opens without retraining
and whatever the params files say now), the model at any checkpoint, the training curves,
every analysis table, the cached activations, and every figure job's figures, built by the
same ``figures`` function its pipeline step runs. Each is read when first asked for (then
kept); activations, the largest files, only as far as asked (the units, the epoch).

No pipeline step imports this module (``tests/test_structure.py``): it is for people.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable, Iterator, Mapping
from functools import cached_property
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import torch

from grokscope import pipeline
from grokscope.activations import ActivationCache
from grokscope.checkpoints import checkpoint_epoch, list_checkpoints, load_model, read_sidecar
from grokscope.curves import read_curves
from grokscope.data import all_pairs
from grokscope.errors import ArtifactError
from grokscope.groups import Group, make_group
from grokscope.hooks import HookedModule
from grokscope.io import read_json, read_parquet
from grokscope.layout import FIGURE_INPUTS, TRAIN_OUTPUTS, how_to_build
from grokscope.representations import FourierBasis, fourier_basis


class Artifacts(Mapping[str, Any]):
    """Files by name (``run.tables["neuron_clusters"]``), each read on first access and then
    kept (copy a table before changing it)."""

    def __init__(self, paths: dict[str, Path], read: Callable[[Path], Any]) -> None:
        self.paths, self._read, self._loaded = dict(sorted(paths.items())), read, {}

    def __getitem__(self, name: str) -> Any:
        if name not in self.paths:
            raise KeyError(f"{name!r}: not in this run; it has {list(self.paths)}")
        if name not in self._loaded:
            self._loaded[name] = self._read(self.paths[name])
        return self._loaded[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self.paths)

    def __len__(self) -> int:
        return len(self.paths)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({list(self.paths)}, read so far: {list(self._loaded)})"


class Run:
    """One built experiment, ``results/<name>/``; see :func:`open_run`.

    Attributes:
        path: the run directory.
        name: the experiment's name (the directory's).
        tables: every analysis table (``analysis/*.parquet``) as a DataFrame, by name.
        metrics: every metrics file (``train/final.json``, ``analysis/*.json``, and
            ``headline.json``, the headline numbers) as a dict.
        style: the figure style (``params/figures.yaml`` of the project, else the defaults).
    """

    def __init__(self, path: Path, style: dict[str, Any]) -> None:
        self.path, self.name, self.style = path, path.name, style
        if (path / "universality.json").exists():
            members = sorted(p.name for p in path.parent.glob(f"{self.name}-*") if p.is_dir())
            shown = ", ".join(members[:3]) + (", …" if len(members) > 3 else "")
            raise ArtifactError(
                f"{path}: a sweep's directory (its universality tables); open one of its "
                f"members ({shown or f'{self.name}-<key><value>'})"
            )
        missing = [rel for rel in TRAIN_OUTPUTS if not (path / rel).exists()]
        if not missing and not list_checkpoints(path / TRAIN_OUTPUTS[0]):
            missing = [f"{TRAIN_OUTPUTS[0]}/*.safetensors"]
        if missing:
            raise ArtifactError(
                f"{path}: run not built ({path / missing[0]} is missing); {how_to_build(self.name)}"
            )
        analysis = path / "analysis"
        self.tables = Artifacts({p.stem: p for p in analysis.glob("*.parquet")}, read_parquet)
        metrics = {"final": path / "train/final.json"}
        metrics |= {p.stem: p for p in analysis.glob("*.json")}
        if (path / "headline.json").exists():
            metrics["headline"] = path / "headline.json"
        self.metrics = Artifacts(metrics, read_json)
        self._models: dict[int, HookedModule] = {}

    def __repr__(self) -> str:
        model = self.params["model"]["kind"]
        return (
            f"<Run {self.name}: {model} on {self.group.symbol}, epochs {self.epochs[0]}.."
            f"{self.epochs[-1]} ({len(self.epochs)} checkpoints), {len(self.tables)} tables>"
        )

    # --- params, group, checkpoints -----------------------------------------------------

    @cached_property
    def sidecar(self) -> dict[str, Any]:
        """The final checkpoint's sidecar: ``params``, ``order``, ``epoch``, ``metrics``."""
        return read_sidecar(self.checkpoint())

    @property
    def params(self) -> dict[str, Any]:
        """The experiment's params as the run was built (from the checkpoint's sidecar)."""
        return self.sidecar["params"]

    @cached_property
    def group(self) -> Group:
        return make_group(**self.params["group"])

    @cached_property
    def basis(self) -> FourierBasis:
        """The group's Fourier basis: ``basis.basis`` ``(order, order)``, ``basis.labels``."""
        return fourier_basis(self.group)

    @property
    def epochs(self) -> list[int]:
        """The epochs of every checkpoint, oldest first."""
        return [checkpoint_epoch(p) for p in list_checkpoints(self.path / TRAIN_OUTPUTS[0])]

    def checkpoint(self, epoch: int | None = None) -> Path:
        """The ``.safetensors`` file of the checkpoint at ``epoch`` (default: the last)."""
        paths = list_checkpoints(self.path / TRAIN_OUTPUTS[0])
        if epoch is None:
            return paths[-1]
        for path in paths:
            if checkpoint_epoch(path) == epoch:
                return path
        raise ArtifactError(f"{self.path}: no checkpoint at epoch {epoch}; have {self.epochs}")

    def model(self, epoch: int | None = None) -> HookedModule:
        """The model at ``epoch`` (default: the last checkpoint), in eval mode, with hooks
        (``run_with_cache``, ``run_with_hooks``, ``hook_points``); loaded once per epoch."""
        path = self.checkpoint(epoch)
        key = checkpoint_epoch(path)
        if key not in self._models:
            self._models[key] = load_model(path)[0]
        return self._models[key]

    @cached_property
    def all_pairs(self) -> torch.Tensor:
        """Every pair in row-major order, ``(order², 3)`` int64 rows ``(a, b, a ∘ b)``: the
        model's input is ``all_pairs[:, :2]``, and ``values.reshape(order, order, ...)``
        indexes outputs by ``(a, b)``."""
        return all_pairs(self.group)

    # --- training -------------------------------------------------------------------------

    @cached_property
    def curves(self) -> pd.DataFrame:
        """Loss and accuracy per evaluation (``train/metrics.csv``)."""
        return read_curves(self.path / "train/metrics.csv")

    @cached_property
    def pairs(self) -> pd.DataFrame:
        """The dataset: ``a, b, c`` and ``split`` (train/test) per pair."""
        return read_parquet(self.path / "data/pairs.parquet")

    # --- activations ----------------------------------------------------------------------

    @cached_property
    def activations(self) -> ActivationCache:
        """The activation cache: ``.read("neurons")`` is ``(order, order, units)`` float32
        at the answer position (``units=[...]`` reads only those columns)."""
        if not (self.path / "activations").is_dir():
            raise ArtifactError(
                f"{self.path / 'activations'}: not built; {how_to_build(self.name)}"
            )
        return ActivationCache(self.path / "activations")

    @property
    def activation_files(self) -> pd.DataFrame:
        """Every cached file: ``hook``, ``epoch``, ``rows``, ``units``, ``megabytes``, ``path``
        (from Parquet footers and file sizes: no values are read)."""
        rows = []
        for hook in self.activations.hooks:
            for path in self.activations.files(hook):
                meta = pq.ParquetFile(path).metadata
                size = path.stat().st_size / 1e6
                rows.append([hook, checkpoint_epoch(path), meta.num_rows, meta.num_columns - 3,
                             size, path])  # fmt: skip
        columns = ["hook", "epoch", "rows", "units", "megabytes", "path"]
        return pd.DataFrame(rows, columns=columns)

    def activation(
        self, name: str, epoch: int | None = None, units: list[int | str] | None = None
    ) -> pd.DataFrame:
        """One cached activation as a table: ``a, b, c`` and one column per unit (every
        position), only ``units`` if given (by column name, or index for one-axis hooks)."""
        path = self.activations.file(name, epoch)
        columns = None if units is None else ["a", "b", "c", *map(str, units)]
        return read_parquet(path, columns=columns)

    def activation_dataset(self, name: str, epoch: int | None = None) -> ds.Dataset:
        """One cached activation as a ``pyarrow.dataset.Dataset``: nothing is read until
        ``.to_table(columns=[...], filter=...)`` or ``.head(n)``."""
        return ds.dataset(self.activations.file(name, epoch), format="parquet")

    # --- figures --------------------------------------------------------------------------

    @property
    def figure_jobs(self) -> list[str]:
        """The figure jobs of this run (``cyclic`` only for cyclic groups)."""
        return pipeline.figure_jobs(self.params["group"]["name"] == "cyclic")

    def figures(self, job: str, **style: Any) -> dict[str, Any]:
        """The figures of figure job ``job`` by name (plotly figures, styled as the pipeline
        styles them); keywords override entries of :attr:`style` (e.g. ``neurons=8``)."""
        from grokscope.plots.render import styled

        if job not in self.figure_jobs:
            raise KeyError(f"{job!r}: not a figure job of this run; have {self.figure_jobs}")
        inputs = {name: self.path / rel for name, rel in FIGURE_INPUTS[job].items()}
        for path in inputs.values():
            if not path.exists():
                raise ArtifactError(f"{path}: not built; {how_to_build(self.name)}")
        full = self.style | style
        step = importlib.import_module(f"grokscope.steps.figure_{job}")
        return {name: styled(fig, full) for name, fig in step.figures(inputs, full).items()}


def find_run(run: str | os.PathLike, root: str | os.PathLike | None = None) -> Path:
    """The run directory ``run`` names: a path, or an experiment name (``results/<name>``),
    relative to ``root``, or else to the current directory or the nearest parent holding it
    (a notebook in ``notebooks/`` finds ``../results/<name>``)."""
    given = Path(run)
    bases = [Path(root)] if root is not None else [Path.cwd(), *Path.cwd().parents]
    for base in bases:
        for candidate in (base / given, base / "results" / given):
            if candidate.is_dir():
                return candidate.resolve()
    first = bases[0] / (given if len(given.parts) > 1 else Path("results") / given)
    raise ArtifactError(f"{first}: no such run directory; {how_to_build(given.name)}")


def open_run(
    run: str | os.PathLike, root: str | os.PathLike | None = None, style: dict | None = None
) -> Run:
    """Open a built run: ``open_run("results/mlp_d53")`` or ``open_run("mlp_d53")``.

    Args:
        run: the run directory, or the experiment's name (see :func:`find_run`).
        root: the project directory to look in (default: the current directory and its
            parents).
        style: the figure style (default: the project's ``params/figures.yaml`` when the
            run is in its ``results/``, else the schema's defaults).

    Raises ArtifactError, naming the path and how to build or fetch it, when the run is not
    built.
    """
    from grokscope.params import default_figure_style, load_figure_style

    path = find_run(run, root)
    if style is None:
        figures_yaml = path.parent.parent / "params/figures.yaml"
        is_project = path.parent.name == "results" and figures_yaml.exists()
        style = load_figure_style(figures_yaml) if is_project else default_figure_style()
    return Run(path, style)
