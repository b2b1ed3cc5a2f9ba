"""Ablations at the final checkpoint: restricted / excluded losses (neurons and logits; all
key irreps and each alone), seed 000's per-cluster "own block only" validation and, for
cyclic groups, seed 004's frequency ablations."""

from __future__ import annotations

from typing import Any

import pandas as pd
import torch

from grokscope.ablations import (
    AllPairs,
    frequency_rows,
    headline_losses,
    key_irrep_rows,
    own_block_rows,
)
from grokscope.checkpoints import final_checkpoint, load_model
from grokscope.data import all_pairs
from grokscope.groups import make_group
from grokscope.io import read_json, read_parquet, write_json, write_parquet
from grokscope.representations import fourier_basis
from grokscope.steps import Paths


def run(inputs: Paths, outputs: Paths, settings: dict[str, Any]) -> None:
    """inputs: ``checkpoints``, ``data``, ``key_irreps``, ``clusters``; outputs: ``table``,
    ``metrics``."""
    model, sidecar = load_model(final_checkpoint(inputs["checkpoints"]))
    group = make_group(**sidecar["params"]["group"])
    fb = fourier_basis(group)
    dataset = read_parquet(inputs["data"])
    s = AllPairs(
        model=model,
        pairs=all_pairs(group)[:, :2],
        labels=torch.tensor(dataset["c"].to_numpy(), dtype=torch.int64),
        is_train=torch.tensor((dataset["split"] == "train").to_numpy()),
    )
    keys = [fb.irreps[i] for i in read_json(inputs["key_irreps"])["key_irrep_indices"]]
    clusters = read_parquet(inputs["clusters"], columns=["neuron", "irrep", "irrep_index"])
    neurons = s.neurons  # (order, order, units)

    rows = key_irrep_rows(s, fb, neurons, keys)
    rows += own_block_rows(s, fb, neurons, clusters)
    if group.name == "cyclic":  # frequency k of C_n is irrep k
        rows += frequency_rows(s, group.order, neurons, [k.index for k in keys])
    table = pd.DataFrame(rows)
    write_parquet(outputs["table"], table)
    write_json(outputs["metrics"], headline_losses(table))
