"""A sweep's headline numbers (from its members' and its universality summary), the one file
DVC treats as the sweep's metrics."""

from __future__ import annotations

from typing import Any

from grokscope.headline import as_json, sweep_headline
from grokscope.io import read_json, write_text
from grokscope.steps import Paths


def run(inputs: Paths, outputs: Paths, settings: dict[str, Any]) -> None:
    """inputs: ``universality`` (the sweep's universality.json) and ``headline:<member>`` per
    member; outputs: ``headline``."""
    members = {
        key.split(":", 1)[1]: read_json(path)
        for key, path in inputs.items()
        if key.startswith("headline:")
    }
    headline = sweep_headline(read_json(inputs["universality"]), members)
    write_text(outputs["headline"], as_json(headline))
