"""Embedding norms per irrep, the clean-neuron clusters and the logit fit at every cached
checkpoint (``params/analysis.yaml: cache.checkpoints``; ``all`` follows the whole run)."""

from __future__ import annotations

from typing import Any

import pandas as pd
import torch

from grokscope.activations import ActivationCache
from grokscope.checkpoints import load_model
from grokscope.groups import make_group
from grokscope.io import read_json, write_json, write_parquet
from grokscope.over_training import irrep_rows, summary_row
from grokscope.representations import fourier_basis
from grokscope.steps import Paths


def run(inputs: Paths, outputs: Paths, settings: dict[str, Any]) -> None:
    """inputs: ``checkpoints``, ``activations``, ``key_irreps``; outputs: ``table`` (one row
    per checkpoint and irrep), ``metrics`` (one entry per checkpoint); settings:
    ``analysis.neurons`` (``clean_threshold``)."""
    threshold = settings["analysis"]["neurons"]["clean_threshold"]
    cache = ActivationCache(inputs["activations"])
    fb = fourier_basis(make_group(**cache.meta("neurons")["group"]))
    keys = read_json(inputs["key_irreps"])["key_irreps"]
    frames, summary = [], []
    for path in cache.files("neurons"):  # every cached checkpoint, oldest first
        epoch = int(path.stem.removeprefix("epoch_"))
        model, _ = load_model(inputs["checkpoints"] / f"{path.stem}.safetensors")
        neurons = torch.from_numpy(cache.read("neurons", epoch=epoch))  # (order, order, units)
        logits = torch.from_numpy(cache.read("logits", epoch=epoch)).reshape(-1, fb.group.order)
        rows = irrep_rows(model.embedding_matrices(), neurons, logits, fb, threshold)
        summary.append({"epoch": epoch, **summary_row(rows, keys, neurons.shape[-1])})
        frames.append(rows.assign(epoch=epoch))
    write_parquet(outputs["table"], pd.concat(frames, ignore_index=True))
    write_json(outputs["metrics"], {"key_irreps": keys, "checkpoints": summary})
