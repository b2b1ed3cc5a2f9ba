"""How much of the logits the key irreps' characters tr ρ(a b c⁻¹) explain, the logits'
components along each key output direction (in the 2-D basis), and those components as
functions of (a, b) for the key irreps and the strongest other ones."""

from __future__ import annotations

from typing import Any

import torch

from grokscope.activations import ActivationCache
from grokscope.groups import make_group
from grokscope.io import read_json, write_json, write_parquet
from grokscope.logits import (
    logit_fve,
    output_direction_components,
    output_direction_values,
    strongest_other_irreps,
)
from grokscope.representations import fourier_basis
from grokscope.steps import Paths

OTHER_IRREPS = 3  # non-key irreps shown beside the key ones (seed 000's "odd" frequencies)


def run(inputs: Paths, outputs: Paths, settings: dict[str, Any]) -> None:
    """inputs: ``activations``, ``key_irreps``; outputs: ``directions``, ``components``,
    ``metrics``."""
    cache = ActivationCache(inputs["activations"])
    group = cache.meta("logits")["group"]
    fb = fourier_basis(make_group(group["name"], group["n"]))
    keys = [fb.irreps[i] for i in read_json(inputs["key_irreps"])["key_irrep_indices"]]
    logits = torch.from_numpy(cache.read("logits")).reshape(-1, fb.group.order)  # (order², order)
    others = strongest_other_irreps(logits, fb, keys, OTHER_IRREPS)
    components = output_direction_values(logits, fb, keys + others)
    components["key"] = components["irrep"].isin([k.label for k in keys])
    write_parquet(outputs["directions"], output_direction_components(logits, fb, keys))
    write_parquet(outputs["components"], components)
    write_json(outputs["metrics"], logit_fve(logits, fb, keys))
