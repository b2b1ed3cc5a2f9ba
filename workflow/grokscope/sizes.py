"""Each model kind's size from its params block alone, for the up-front budgets
(:mod:`grokscope.budgets`): the floats one training pair keeps alive in a step, and the
parameter count. The model classes (:mod:`grokscope.models`) answer with these same
functions; they live apart from them because params are validated at every Snakemake start,
which must not load torch.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Size = Callable[[dict[str, Any], int], int]


def bilinear_floats_per_pair(spec: dict[str, Any], order: int) -> int:
    return 2 * spec["embed_dim"] + order


def bilinear_parameter_count(spec: dict[str, Any], order: int) -> int:
    return 3 * order * spec["embed_dim"]


def mlp_floats_per_pair(spec: dict[str, Any], order: int) -> int:
    return 2 * spec["embed_dim"] + spec["hidden_dim"] + order


def mlp_parameter_count(spec: dict[str, Any], order: int) -> int:
    embed, hidden = spec["embed_dim"], spec["hidden_dim"]
    return 2 * order * embed + 2 * embed * hidden + hidden * order


def transformer_floats_per_pair(spec: dict[str, Any], order: int) -> int:
    # Three positions of residual-stream-sized activations, attention and MLP neurons.
    heads = spec["n_heads"] * (3 * spec["d_head"] + 3)
    return 3 * (6 * spec["d_model"] + 2 * spec["d_mlp"] + heads) + order


def transformer_parameter_count(spec: dict[str, Any], order: int) -> int:
    d_model, d_mlp = spec["d_model"], spec["d_mlp"]
    attention = 4 * spec["n_heads"] * d_model * spec["d_head"]
    mlp = 2 * d_model * d_mlp + d_mlp + d_model
    return (2 * order + 4) * d_model + attention + mlp


# model.kind → (floats per training pair, parameter count).
SIZES: dict[str, tuple[Size, Size]] = {
    "bilinear": (bilinear_floats_per_pair, bilinear_parameter_count),
    "mlp": (mlp_floats_per_pair, mlp_parameter_count),
    "transformer": (transformer_floats_per_pair, transformer_parameter_count),
}
