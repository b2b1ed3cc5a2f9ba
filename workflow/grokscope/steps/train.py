"""Full-batch training of one experiment: checkpoints, the metrics table, the final metrics."""

from __future__ import annotations

import json
import sys
from typing import Any

from grokscope.io import read_parquet
from grokscope.steps import Paths
from grokscope.train import TrainPaths, train


def run(inputs: Paths, outputs: Paths, settings: dict[str, Any]) -> None:
    """inputs: ``data``; outputs: ``checkpoints`` (directory), ``plot`` (metrics CSV),
    ``metrics`` (final JSON); settings: ``experiment`` (``seed``, ``group``, ``model``,
    ``train``). An interrupted run resumes from the scratch space beside the checkpoints."""
    paths = TrainPaths.beside(outputs["checkpoints"], outputs["plot"], outputs["metrics"])
    final = train(settings["experiment"], read_parquet(inputs["data"]), paths)
    print(json.dumps(final), file=sys.stderr)
