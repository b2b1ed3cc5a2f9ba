"""The run's headline numbers, the one file DVC treats as its metrics."""

from __future__ import annotations

from typing import Any

from grokscope.headline import as_json, experiment_headline
from grokscope.io import read_json, write_text
from grokscope.steps import Paths


def run(inputs: Paths, outputs: Paths, settings: dict[str, Any]) -> None:
    """inputs: ``final`` (train/final.json), ``key_irreps``, ``neurons``, ``logits``,
    ``ablations``, ``phases`` (analysis/*.json); outputs: ``headline``."""
    headline = experiment_headline({name: read_json(path) for name, path in inputs.items()})
    write_text(outputs["headline"], as_json(headline))
