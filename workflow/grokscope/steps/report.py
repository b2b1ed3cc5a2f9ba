"""``results/index.html``: one page with every experiment's key metrics and figures."""

from __future__ import annotations

import os
from typing import Any

from grokscope.errors import ArtifactError
from grokscope.io import read_json, write_text
from grokscope.report import render
from grokscope.steps import Paths


def run(inputs: Paths, outputs: Paths, settings: dict[str, Any]) -> None:
    """inputs: ``metrics:<experiment>:<name>`` (JSON) and ``figures:<experiment>:<job>``
    (figure directories) for every experiment and sweep; outputs: ``page``; settings:
    ``experiments`` (experiment → ``group``, ``model``, ``source``)."""
    root = outputs["page"].parent
    found: dict[str, dict[str, Any]] = {}
    for key, path in inputs.items():
        kind, exp, name = key.split(":", 2)
        entry = found.setdefault(exp, {"figures": {}, "metrics": {}})
        if kind == "metrics":
            entry["metrics"][name] = read_json(path)
        else:
            if not path.is_dir():
                raise ArtifactError(f"{path}: figure directory not found")
            names = sorted(p.stem for p in path.glob("*.png") if p.with_suffix(".html").exists())
            entry["figures"][name] = (os.path.relpath(path, root), names)
    write_text(outputs["page"], render(found, settings["experiments"]))
