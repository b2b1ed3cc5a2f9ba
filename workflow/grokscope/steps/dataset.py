"""Every pair ``(a, b)`` of the experiment's group with ``c = a ∘ b``, split into train/test."""

from __future__ import annotations

from typing import Any

from grokscope.data import make_dataset
from grokscope.groups import make_group
from grokscope.io import write_parquet
from grokscope.steps import Paths


def run(inputs: Paths, outputs: Paths, settings: dict[str, Any]) -> None:
    """outputs: ``pairs``; settings: ``experiment`` (``seed``, ``group``, ``data``)."""
    exp = settings["experiment"]
    group = make_group(exp["group"]["name"], exp["group"]["n"])
    pairs = make_dataset(group, exp["data"]["frac_train"], exp["seed"], exp["data"]["split"])
    meta = {"group": exp["group"], "data": exp["data"], "seed": exp["seed"]}
    write_parquet(outputs["pairs"], pairs, meta)
