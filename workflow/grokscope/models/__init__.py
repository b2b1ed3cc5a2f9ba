"""The three architectures, with TransformerLens-style hook and parameter names.

All models take ``pairs`` of shape ``(batch, 2)`` (elements ``a, b`` of a group of order
``order``) and return logits ``(batch, order)`` over ``c = a ∘ b``. Parameters are drawn from
a private ``torch.Generator`` seeded explicitly, in the same order and scale as the source
notebooks, so a seed reproduces the notebook's initialisation on the CPU.

Each class declares what the analyses need to know about it (its ``kind``, hook names,
answer position, embedding matrices, neuron readout; see
:class:`grokscope.hooks.HookedModule`); :data:`MODELS` maps ``model.kind`` to the class.
"""

from __future__ import annotations

from typing import Any

from grokscope.hooks import HookedModule
from grokscope.models.mlp import BilinearNet, OneLayerMLP
from grokscope.models.transformer import Transformer

# model.kind → class.
MODELS: dict[str, type[HookedModule]] = {
    cls.kind: cls for cls in (BilinearNet, OneLayerMLP, Transformer)
}

__all__ = ["MODELS", "BilinearNet", "OneLayerMLP", "Transformer", "build_model"]


def build_model(spec: dict[str, Any], order: int, seed: int) -> HookedModule:
    """Model from its params block, e.g. ``{"kind": "mlp", "embed_dim": 32, "hidden_dim": 128}``."""
    if spec["kind"] not in MODELS:
        raise ValueError(f"unknown model kind {spec['kind']!r}; choose one of {sorted(MODELS)}")
    return MODELS[spec["kind"]].from_spec(spec, order, seed)
