"""All seeds of a seed sweep trained as one stacked model, with each member's own outputs."""

from __future__ import annotations

import json
import sys
from typing import Any

from grokscope.batched import train_batched
from grokscope.io import read_parquet
from grokscope.steps import Paths
from grokscope.train import TrainPaths


def run(inputs: Paths, outputs: Paths, settings: dict[str, Any]) -> None:
    """For each member ``m`` of ``settings["members"]``: input ``data:m``; outputs
    ``checkpoints:m``, ``plot:m``, ``metrics:m``; settings: ``experiment`` (the shared
    ``group``, ``model``, ``train``) and ``members`` (member → seed)."""
    members = settings["members"]
    exps = [{**settings["experiment"], "seed": seed} for seed in members.values()]
    datasets = [read_parquet(inputs[f"data:{m}"]) for m in members]
    paths = [
        TrainPaths.beside(
            outputs[f"checkpoints:{m}"], outputs[f"plot:{m}"], outputs[f"metrics:{m}"]
        )
        for m in members
    ]
    finals = train_batched(exps, datasets, paths)
    for member, final in zip(members, finals, strict=True):
        print(json.dumps({"member": member, **final}), file=sys.stderr)
