"""How much of the logits the key irreps' characters tr ρ(a b c⁻¹) explain, and the logits'
components along each key output direction."""

from __future__ import annotations

from typing import Any

import torch

from grokscope.activations import ActivationCache
from grokscope.groups import make_group
from grokscope.io import read_json, write_json, write_parquet
from grokscope.logits import logit_fve, output_direction_components
from grokscope.representations import fourier_basis
from grokscope.steps import Paths


def run(inputs: Paths, outputs: Paths, settings: dict[str, Any]) -> None:
    """inputs: ``activations``, ``key_irreps``; outputs: ``directions``, ``metrics``."""
    cache = ActivationCache(inputs["activations"])
    group = cache.meta("logits")["group"]
    fb = fourier_basis(make_group(group["name"], group["n"]))
    keys = [fb.irreps[i] for i in read_json(inputs["key_irreps"])["key_irrep_indices"]]
    logits = torch.from_numpy(cache.read("logits")).reshape(-1, fb.group.order)  # (order², order)
    write_parquet(outputs["directions"], output_direction_components(logits, fb, keys))
    write_json(outputs["metrics"], logit_fve(logits, fb, keys))
