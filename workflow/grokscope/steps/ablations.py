"""Ablations at the final checkpoint: restricted / excluded losses (neurons and logits; all
key irreps and each alone), seed 000's per-cluster "own block only" validation and, for
cyclic groups, seed 004's frequency ablations (exactly as the notebook, and generalised);
the check of the key set (:func:`grokscope.key_rules.ablation_check`) with its flags."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from grokscope.ablations import (
    AllPairs,
    headline_losses,
    key_irrep_rows,
    own_block_rows,
)
from grokscope.checkpoints import final_checkpoint, load_model
from grokscope.frequency_ablations import frequency_rows
from grokscope.groups import make_group
from grokscope.io import read_json, read_parquet, write_json, write_parquet
from grokscope.key_rules import ablation_check, similarity_gap
from grokscope.representations import fourier_basis
from grokscope.steps import Paths


def run(inputs: Paths, outputs: Paths, settings: dict[str, Any]) -> None:
    """inputs: ``checkpoints``, ``data``, ``key_irreps``, ``clusters``; outputs: ``table``,
    ``metrics``; settings: ``analysis.key_irreps`` (its ``check``)."""
    model, sidecar = load_model(final_checkpoint(inputs["checkpoints"]))
    group = make_group(**sidecar["params"]["group"])
    fb = fourier_basis(group)
    dataset = read_parquet(inputs["data"])
    s = AllPairs.of(model, group, dataset)
    key_irreps = read_json(inputs["key_irreps"])
    keys = [fb.irreps[i] for i in key_irreps["key_irrep_indices"]]
    clusters = read_parquet(inputs["clusters"], columns=["neuron", "irrep", "irrep_index"])
    neurons = s.neurons  # (order, order, units)

    rows = key_irrep_rows(s, fb, neurons, keys)
    rows += own_block_rows(s, fb, neurons, clusters)
    if group.name == "cyclic":  # frequency k of C_n is irrep k
        rows += frequency_rows(s, group.order, neurons, [k.index for k in keys])
    table = pd.DataFrame(rows)
    headline = headline_losses(table)
    similarity = pd.Series(key_irreps["reference"]["logit_similarity"])
    check = ablation_check(
        test_loss=headline["baseline_test_loss"],
        restricted_loss=headline["restricted_test_loss"],
        excluded_loss=headline["excluded_train_loss"],
        gap=similarity_gap(similarity, key_irreps["key_irreps"]),
        order=group.order,
        check=settings["analysis"]["key_irreps"]["check"],
    )
    write_parquet(outputs["table"], table)
    metrics = {
        **headline,
        "check": check,
        "flags": check["flags"],
        "log_order": math.log(group.order),
    }
    write_json(outputs["metrics"], metrics)
