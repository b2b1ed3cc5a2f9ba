"""Progress measures at every saved checkpoint, and the phase boundaries of the run."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import torch
from tqdm import tqdm

from grokscope.checkpoints import list_checkpoints, load_model, read_sidecar
from grokscope.curves import SHARE_PREFIX, read_curves
from grokscope.data import all_pairs
from grokscope.errors import ArtifactError
from grokscope.groups import Group, make_group
from grokscope.io import read_json, read_parquet, write_json, write_parquet, write_text
from grokscope.phases import phase_boundaries
from grokscope.progress import measures
from grokscope.representations import fourier_basis
from grokscope.steps import Paths


def run(inputs: Paths, outputs: Paths, settings: dict[str, Any]) -> None:
    """inputs: ``checkpoints``, ``curves`` (the run's metrics CSV), ``data``, ``key_irreps``;
    outputs: ``table`` (Parquet, with each irrep's embedding share as ``share <irrep>``
    columns), ``plot`` (CSV of the scalar measures, for ``dvc plots``), ``metrics`` (phases);
    settings: ``analysis.neurons`` (clean threshold) and ``analysis.phases``."""
    paths = list_checkpoints(inputs["checkpoints"])
    if not paths:
        raise ArtifactError(f"{inputs['checkpoints']}: no checkpoints")
    analysis = settings["analysis"]
    group = make_group(**read_sidecar(paths[-1])["params"]["group"])
    table = measure(paths, group, inputs, analysis["neurons"]["clean_threshold"])
    write_parquet(outputs["table"], table)
    scalars = [c for c in table.columns if not c.startswith(SHARE_PREFIX)]
    write_text(outputs["plot"], table[scalars].to_csv(index=False, float_format="%.9g"))
    curves = read_curves(inputs["curves"])
    phases = phase_boundaries(curves, table, group.order, analysis["phases"])
    write_json(outputs["metrics"], phases)


def measure(
    paths: list[Path], group: Group, inputs: Paths, clean_threshold: float, progress: bool = True
) -> pd.DataFrame:
    """The progress measures at each checkpoint of ``paths`` (one row each, by ``epoch``) of a
    run on ``group``, each checkpoint on its own: the cost is linear in their number
    (``benchmarks/progress_vs_training.py``). inputs: ``data``, ``key_irreps``."""
    fb = fourier_basis(group)
    dataset = read_parquet(inputs["data"])
    pairs = all_pairs(group)[:, :2]  # (order², 2)
    labels = torch.tensor(dataset["c"].to_numpy(), dtype=torch.int64)
    is_train = torch.tensor((dataset["split"] == "train").to_numpy())
    keys = [fb.irreps[i] for i in read_json(inputs["key_irreps"])["key_irrep_indices"]]
    rows = []
    for path in tqdm(paths, unit="checkpoint", mininterval=2.0, disable=not progress):
        model, sidecar = load_model(path)
        row = measures(model, fb, pairs, labels, is_train, keys, clean_threshold)
        rows.append({"epoch": sidecar["epoch"], **row})
    return pd.DataFrame(rows)
