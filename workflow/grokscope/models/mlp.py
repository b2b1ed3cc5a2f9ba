"""Seed ``000``'s two models: the BilinearNet and the one-hidden-layer MLP on pairs ``(a, b)``."""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from grokscope import sizes
from grokscope.hooks import HookedModule, HookPoint
from grokscope.kernels import FoldedMLPLoss, fold_first_layer, hand_written_applies, take_rows
from grokscope.models.weights import randn as _randn


class BilinearNet(HookedModule):
    """Seed ``000``'s BilinearNet: logits = (W_E_a[a] * W_E_b[b]) @ W_U. No nonlinearity."""

    kind = "bilinear"
    neuron_hook = "hook_product"
    width_fields = ("embed_dim",)  # the params fields that set its size

    def __init__(self, order: int, embed_dim: int, seed: int) -> None:
        super().__init__()
        gen = torch.Generator().manual_seed(seed)
        # The notebook divides by sqrt(embed_dim) for all three, in this order.
        self.W_E_a = _randn(gen, order, embed_dim, fan=embed_dim)
        self.W_E_b = _randn(gen, order, embed_dim, fan=embed_dim)
        self.W_U = _randn(gen, embed_dim, order, fan=embed_dim)
        self.hook_embed_a = HookPoint()
        self.hook_embed_b = HookPoint()
        self.hook_product = HookPoint()
        self.hook_logits = HookPoint()

    def forward(self, pairs: torch.Tensor) -> torch.Tensor:
        # index via F.embedding: same values as W[idx], much faster backward on CPU.
        x = self.hook_embed_a(F.embedding(pairs[:, 0], self.W_E_a))  # (batch, embed_dim)
        y = self.hook_embed_b(F.embedding(pairs[:, 1], self.W_E_b))  # (batch, embed_dim)
        product = self.hook_product(x * y)  # (batch, embed_dim)
        return self.hook_logits(product @ self.W_U)  # (batch, order)

    def fast_forward(self, pairs: torch.Tensor) -> torch.Tensor:
        x = take_rows(self.W_E_a, pairs[:, 0])  # (batch, embed_dim)
        y = take_rows(self.W_E_b, pairs[:, 1])  # (batch, embed_dim)
        return (x * y) @ self.W_U  # (batch, order)

    @classmethod
    def from_spec(cls, spec: dict[str, Any], order: int, seed: int) -> BilinearNet:
        return cls(order, spec["embed_dim"], seed)

    # Floats one training pair keeps alive in a step, and parameters (memory estimates).
    floats_per_pair = staticmethod(sizes.bilinear_floats_per_pair)
    parameter_count = staticmethod(sizes.bilinear_parameter_count)

    def embedding_matrices(self) -> dict[str, torch.Tensor]:
        return {
            "W_E_a": self.W_E_a.detach(),
            "W_E_b": self.W_E_b.detach(),
            "W_U": self.W_U.detach().T,
        }

    def neuron_readout(self) -> torch.Tensor:
        return self.W_U.detach()  # (embed_dim, order): the products are read out by W_U


class MLP(nn.Module):
    """Hidden layer of :class:`OneLayerMLP`: ReLU(embed @ W), no bias (as in the notebook)."""

    def __init__(self, gen: torch.Generator, d_in: int, hidden_dim: int) -> None:
        super().__init__()
        self.W = _randn(gen, d_in, hidden_dim, fan=d_in)
        self.hook_pre = HookPoint()
        self.hook_post = HookPoint()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.hook_post(F.relu(self.hook_pre(x @ self.W)))  # (batch, hidden_dim)


class OneLayerMLP(HookedModule):
    """Seed ``000``'s OneLayerMLP: ReLU(concat(W_E_a[a], W_E_b[b]) @ W) @ W_U."""

    kind = "mlp"
    neuron_hook = "mlp.hook_post"
    neuron_pre_hook = "mlp.hook_pre"
    width_fields = ("embed_dim", "hidden_dim")

    def __init__(self, order: int, embed_dim: int, hidden_dim: int, seed: int) -> None:
        super().__init__()
        gen = torch.Generator().manual_seed(seed)
        self.W_E_a = _randn(gen, order, embed_dim, fan=embed_dim)
        self.W_E_b = _randn(gen, order, embed_dim, fan=embed_dim)
        self.mlp = MLP(gen, 2 * embed_dim, hidden_dim)
        self.W_U = _randn(gen, hidden_dim, order, fan=hidden_dim)
        self.hook_embed_a = HookPoint()
        self.hook_embed_b = HookPoint()
        self.hook_embed = HookPoint()
        self.hook_logits = HookPoint()

    def forward(self, pairs: torch.Tensor) -> torch.Tensor:
        x = self.hook_embed_a(F.embedding(pairs[:, 0], self.W_E_a))  # (batch, embed_dim)
        y = self.hook_embed_b(F.embedding(pairs[:, 1], self.W_E_b))  # (batch, embed_dim)
        embed = self.hook_embed(torch.cat([x, y], dim=1))  # (batch, 2 * embed_dim)
        hidden = self.mlp(embed)  # (batch, hidden_dim)
        return self.hook_logits(hidden @ self.W_U)  # (batch, order)

    def fast_forward(self, pairs: torch.Tensor) -> torch.Tensor:
        pre_a, pre_b = fold_first_layer(self.W_E_a, self.W_E_b, self.mlp.W)
        # In place: the rows are fresh tensors and neither op's backward needs its input;
        # two fewer (batch, hidden) buffers is ~8% of a CPU step (memory-bound).
        pre = take_rows(pre_a, pairs[:, 0]).add_(take_rows(pre_b, pairs[:, 1]))  # (batch, hidden)
        return pre.relu_() @ self.W_U  # (batch, order)

    def fast_loss(self, pairs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        # The fused loss uses index_add_ (atomic, so not deterministic, on GPUs) and does not
        # support torch.func transforms (autograd.Function.apply refuses it under any active
        # transform): GPUs and the batched trainer (vmap) take fast_forward's autograd path.
        if not hand_written_applies(self.W_U):
            return super().fast_loss(pairs, targets)
        return FoldedMLPLoss.apply(
            self.W_E_a, self.W_E_b, self.mlp.W, self.W_U, pairs[:, 0], pairs[:, 1], targets
        )

    @classmethod
    def from_spec(cls, spec: dict[str, Any], order: int, seed: int) -> OneLayerMLP:
        return cls(order, spec["embed_dim"], spec["hidden_dim"], seed)

    floats_per_pair = staticmethod(sizes.mlp_floats_per_pair)
    parameter_count = staticmethod(sizes.mlp_parameter_count)

    def embedding_matrices(self) -> dict[str, torch.Tensor]:
        return {
            "W_E_a": self.W_E_a.detach(),
            "W_E_b": self.W_E_b.detach(),
            "W_U": self.W_U.detach().T,
        }

    def neuron_readout(self) -> torch.Tensor:
        return self.W_U.detach()  # (hidden_dim, order)
