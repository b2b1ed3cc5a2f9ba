"""Full-batch training of one experiment: checkpoints, the metrics table, the final metrics."""

from __future__ import annotations

import json
import sys
from typing import Any

import torch

from grokscope.io import read_parquet
from grokscope.process import IdleCores
from grokscope.steps import Paths
from grokscope.train import TrainPaths, train


def run(inputs: Paths, outputs: Paths, settings: dict[str, Any]) -> None:
    """inputs: ``data``; outputs: ``checkpoints`` (directory), ``plot`` (metrics CSV),
    ``metrics`` (final JSON); settings: ``experiment`` (``seed``, ``group``, ``model``,
    ``train``). An interrupted run resumes from the scratch space beside the checkpoints."""
    paths = TrainPaths.beside(outputs["checkpoints"], outputs["plot"], outputs["metrics"])
    idle = IdleCores(torch.get_num_threads())  # the rule's threads, set by the CLI
    final = train(settings["experiment"], read_parquet(inputs["data"]), paths, tune=idle)
    print(json.dumps(final), file=sys.stderr)
