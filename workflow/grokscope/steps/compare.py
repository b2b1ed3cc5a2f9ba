"""Our run beside a reference run (the published one): a table of what a researcher compares."""

from __future__ import annotations

from typing import Any

from grokscope.comparison import compare
from grokscope.io import read_json, write_json
from grokscope.steps import Paths


def run(inputs: Paths, outputs: Paths, settings: dict[str, Any]) -> None:
    """inputs: ``<run>:<name>`` for ``run`` in ``ours``, ``reference`` and ``name`` in
    ``final``, ``key_irreps``, ``neurons``, ``logits``, ``ablations``, ``phases`` (JSON);
    outputs: ``metrics`` (the table); settings: ``reference`` (its experiment's name)."""
    runs: dict[str, dict[str, Any]] = {"ours": {}, "reference": {}}
    for key, path in inputs.items():
        which, name = key.split(":", 1)
        runs[which][name] = read_json(path)
    table = compare(runs["ours"], runs["reference"])
    write_json(outputs["metrics"], {"reference": settings["reference"], **table})
