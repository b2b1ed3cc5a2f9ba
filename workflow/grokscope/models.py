"""The three architectures, with TransformerLens-style hook and parameter names.

All models take ``pairs`` of shape ``(batch, 2)`` (elements ``a, b`` of a group of order
``order``) and return logits ``(batch, order)`` over ``c = a ∘ b``. Parameters are drawn from
a private ``torch.Generator`` seeded explicitly, in the same order and scale as the source
notebooks, so a seed reproduces the notebook's initialisation on the CPU.
"""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from grokscope.hooks import HookedModule, HookPoint
from grokscope.kernels import FoldedMLPLoss, fold_first_layer, take_rows, under_torch_func

# model.kind → class; every class registers itself with @register.
MODELS: dict[str, type[HookedModule]] = {}


def register(cls: type[HookedModule]) -> type[HookedModule]:
    """Class decorator: make ``cls`` buildable as ``model.kind: cls.kind``."""
    MODELS[cls.kind] = cls
    return cls


def _randn(gen: torch.Generator, *shape: int, fan: int) -> nn.Parameter:
    # randn / sqrt(fan), dividing as the notebooks do (multiplying by 1/sqrt differs in ulps).
    return nn.Parameter(torch.randn(*shape, generator=gen) / math.sqrt(fan))


@register
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

    @staticmethod
    def floats_per_pair(spec: dict[str, Any], order: int) -> int:
        """Floats one training pair keeps alive in a step (for memory estimates)."""
        return 2 * spec["embed_dim"] + order

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


@register
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
        if self.W_U.device.type != "cpu" or under_torch_func():
            return super().fast_loss(pairs, targets)
        return FoldedMLPLoss.apply(
            self.W_E_a, self.W_E_b, self.mlp.W, self.W_U, pairs[:, 0], pairs[:, 1], targets
        )

    @classmethod
    def from_spec(cls, spec: dict[str, Any], order: int, seed: int) -> OneLayerMLP:
        return cls(order, spec["embed_dim"], spec["hidden_dim"], seed)

    @staticmethod
    def floats_per_pair(spec: dict[str, Any], order: int) -> int:
        return 2 * spec["embed_dim"] + spec["hidden_dim"] + order

    def embedding_matrices(self) -> dict[str, torch.Tensor]:
        return {
            "W_E_a": self.W_E_a.detach(),
            "W_E_b": self.W_E_b.detach(),
            "W_U": self.W_U.detach().T,
        }

    def neuron_readout(self) -> torch.Tensor:
        return self.W_U.detach()  # (hidden_dim, order)


# --- the published 1-layer transformer -----------------------------------------------------


class Embed(nn.Module):
    def __init__(self, gen: torch.Generator, d_vocab: int, d_model: int) -> None:
        super().__init__()
        self.W_E = _randn(gen, d_vocab, d_model, fan=d_model)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        return F.embedding(tokens, self.W_E)  # (batch, pos, d_model)


class PosEmbed(nn.Module):
    def __init__(self, gen: torch.Generator, n_ctx: int, d_model: int) -> None:
        super().__init__()
        self.W_pos = _randn(gen, n_ctx, d_model, fan=d_model)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        return self.W_pos[: tokens.shape[1]].expand(
            tokens.shape[0], -1, -1
        )  # (batch, pos, d_model)


class Attention(nn.Module):
    """Causal multi-head attention without biases, scores scaled by 1/sqrt(d_head)."""

    def __init__(
        self, gen: torch.Generator, d_model: int, n_heads: int, d_head: int, n_ctx: int
    ) -> None:
        super().__init__()
        self.W_K = _randn(gen, n_heads, d_model, d_head, fan=d_model)
        self.W_Q = _randn(gen, n_heads, d_model, d_head, fan=d_model)
        self.W_V = _randn(gen, n_heads, d_model, d_head, fan=d_model)
        self.W_O = _randn(gen, n_heads, d_head, d_model, fan=d_model)
        self.register_buffer("mask", torch.tril(torch.ones(n_ctx, n_ctx, dtype=torch.bool)))
        self.d_head = d_head
        for name in ("q", "k", "v", "attn_scores", "pattern", "z"):
            setattr(self, f"hook_{name}", HookPoint())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        q = self.hook_q(torch.einsum("bpd,hde->bphe", x, self.W_Q))  # (batch, pos, head, d_head)
        k = self.hook_k(torch.einsum("bpd,hde->bphe", x, self.W_K))  # (batch, pos, head, d_head)
        v = self.hook_v(torch.einsum("bpd,hde->bphe", x, self.W_V))  # (batch, pos, head, d_head)
        scores = torch.einsum("bqhe,bkhe->bhqk", q, k) / math.sqrt(self.d_head)
        n = x.shape[1]
        scores = self.hook_attn_scores(scores.masked_fill(~self.mask[:n, :n], float("-inf")))
        pattern = self.hook_pattern(scores.softmax(dim=-1))  # (batch, head, q_pos, k_pos)
        z = self.hook_z(torch.einsum("bhqk,bkhe->bqhe", pattern, v))  # (batch, pos, head, d_head)
        return torch.einsum("bqhe,hed->bqd", z, self.W_O)  # (batch, pos, d_model)


class TransformerMLP(nn.Module):
    def __init__(self, gen: torch.Generator, d_model: int, d_mlp: int) -> None:
        super().__init__()
        self.W_in = _randn(gen, d_model, d_mlp, fan=d_model)
        self.b_in = nn.Parameter(torch.zeros(d_mlp))
        self.W_out = _randn(gen, d_mlp, d_model, fan=d_model)
        self.b_out = nn.Parameter(torch.zeros(d_model))
        self.hook_pre = HookPoint()
        self.hook_post = HookPoint()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pre = self.hook_pre(x @ self.W_in + self.b_in)  # (batch, pos, d_mlp)
        return self.hook_post(F.relu(pre)) @ self.W_out + self.b_out  # (batch, pos, d_model)


class TransformerBlock(nn.Module):
    def __init__(
        self, gen: torch.Generator, d_model: int, n_heads: int, d_head: int, d_mlp: int, n_ctx: int
    ) -> None:
        super().__init__()
        self.attn = Attention(gen, d_model, n_heads, d_head, n_ctx)
        self.mlp = TransformerMLP(gen, d_model, d_mlp)
        for name in ("resid_pre", "attn_out", "resid_mid", "mlp_out", "resid_post"):
            setattr(self, f"hook_{name}", HookPoint())

    def forward(self, resid: torch.Tensor) -> torch.Tensor:
        resid = self.hook_resid_pre(resid)  # (batch, pos, d_model)
        resid = self.hook_resid_mid(resid + self.hook_attn_out(self.attn(resid)))
        return self.hook_resid_post(resid + self.hook_mlp_out(self.mlp(resid)))


class Unembed(nn.Module):
    def __init__(self, gen: torch.Generator, d_model: int, d_vocab_out: int) -> None:
        super().__init__()
        self.W_U = _randn(gen, d_model, d_vocab_out, fan=d_vocab_out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x @ self.W_U


@register
class Transformer(HookedModule):
    """The published 1-layer, attention + ReLU MLP, no-LayerNorm transformer.

    Input tokens are ``(a, b, '=')`` with ``'=' = order``; logits are read at the last
    position. Parameter layouts follow TransformerLens (``W_Q: (head, d_model, d_head)``).
    """

    kind = "transformer"
    neuron_hook = "blocks.0.mlp.hook_post"
    neuron_pre_hook = "blocks.0.mlp.hook_pre"
    resid_hook = "blocks.0.hook_resid_post"
    answer_position = 2  # the '=' token
    width_fields = ("d_model", "d_mlp")

    def answer_axis(self, hook: str) -> int | None:
        if hook == "hook_logits":
            return None  # already read at the '=' position
        # Attention scores and patterns are (head, query, key): the query is the position.
        return 1 if hook.endswith(("attn.hook_attn_scores", "attn.hook_pattern")) else 0

    def __init__(
        self,
        order: int,
        d_model: int,
        n_heads: int,
        d_head: int,
        d_mlp: int,
        seed: int,
        n_layers: int = 1,
    ) -> None:
        super().__init__()
        gen = torch.Generator().manual_seed(seed)
        self.order = order
        self.embed = Embed(gen, order + 1, d_model)
        self.pos_embed = PosEmbed(gen, 3, d_model)
        self.blocks = nn.ModuleList(
            TransformerBlock(gen, d_model, n_heads, d_head, d_mlp, n_ctx=3) for _ in range(n_layers)
        )
        self.unembed = Unembed(gen, d_model, order)
        self.hook_embed = HookPoint()
        self.hook_pos_embed = HookPoint()
        self.hook_logits = HookPoint()

    def forward(self, pairs: torch.Tensor) -> torch.Tensor:
        equals = torch.full_like(pairs[:, :1], self.order)
        tokens = torch.cat([pairs, equals], dim=1)  # (batch, 3)
        resid = self.hook_embed(self.embed(tokens)) + self.hook_pos_embed(self.pos_embed(tokens))
        for block in self.blocks:
            resid = block(resid)  # (batch, 3, d_model)
        return self.hook_logits(self.unembed(resid[:, -1]))  # (batch, order)

    def fast_forward(self, pairs: torch.Tensor) -> torch.Tensor:
        """Only what reaches the logits: the '=' position's query, MLP and unembedding.

        With one layer the residual stream at positions 0 and 1 is just the token plus
        position embedding, so keys and (value @ W_O) of every possible token are tables of
        ``order`` rows, and the '=' query is one constant vector per head.
        """
        if len(self.blocks) != 1:
            return self(pairs)
        attn, mlp = self.blocks[0].attn, self.blocks[0].mlp
        W_E, W_pos = self.embed.W_E, self.pos_embed.W_pos
        x_eq = W_E[self.order] + W_pos[2]  # (d_model,)
        q = torch.einsum("d,hde->he", x_eq, attn.W_Q)  # (head, d_head)
        scale = 1 / math.sqrt(attn.d_head)

        def tables(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
            # x: (n, d_model) residual at one position → scores (n, head), OV (n, head, d_model)
            k = torch.einsum("nd,hde->nhe", x, attn.W_K)
            ov = torch.einsum("nd,hde,hem->nhm", x, attn.W_V, attn.W_O)
            return (k * q).sum(-1) * scale, ov

        score_a, ov_a = tables(W_E[: self.order] + W_pos[0])
        score_b, ov_b = tables(W_E[: self.order] + W_pos[1])
        score_eq, ov_eq = tables(x_eq[None])
        a, b = pairs[:, 0], pairs[:, 1]
        scores = torch.stack(
            [take_rows(score_a, a), take_rows(score_b, b), score_eq.expand(len(a), -1)], dim=-1
        )  # (batch, head, 3)
        pattern = scores.softmax(dim=-1)
        # Attention output Σ_pos pattern[pos] · OV(token at pos), one (1 × head) @ (head ×
        # d_model) product per pair and position: 1.4× faster per step than stacking the
        # three positions' OV rows into one (batch, head, 3, d_model) tensor for an einsum.
        weights = pattern.transpose(1, 2).contiguous()  # (batch, 3, head)
        from_ab = torch.bmm(weights[:, 0:1], take_rows(ov_a, a)) + torch.bmm(
            weights[:, 1:2], take_rows(ov_b, b)
        )  # (batch, 1, d_model)
        resid = x_eq + from_ab[:, 0] + weights[:, 2] @ ov_eq[0]  # (batch, d_model)
        resid = resid + F.relu(resid @ mlp.W_in + mlp.b_in) @ mlp.W_out + mlp.b_out
        return resid @ self.unembed.W_U  # (batch, order)

    @classmethod
    def from_spec(cls, spec: dict[str, Any], order: int, seed: int) -> Transformer:
        return cls(order, spec["d_model"], spec["n_heads"], spec["d_head"], spec["d_mlp"], seed)

    @staticmethod
    def floats_per_pair(spec: dict[str, Any], order: int) -> int:
        # Three positions of residual-stream-sized activations and MLP neurons.
        return 3 * (6 * spec["d_model"] + 2 * spec["d_mlp"]) + order

    def embedding_matrices(self) -> dict[str, torch.Tensor]:
        # The '=' row of W_E is not a group element.
        return {"W_E": self.embed.W_E.detach()[: self.order], "W_U": self.unembed.W_U.detach().T}

    def neuron_readout(self) -> torch.Tensor:
        # The MLP output goes straight into the residual stream, then the unembedding.
        return self.blocks[0].mlp.W_out.detach() @ self.unembed.W_U.detach()  # (d_mlp, order)


def build_model(spec: dict[str, Any], order: int, seed: int) -> HookedModule:
    """Model from its params block, e.g. ``{"kind": "mlp", "embed_dim": 32, "hidden_dim": 128}``."""
    if spec["kind"] not in MODELS:
        raise ValueError(f"unknown model kind {spec['kind']!r}; choose one of {sorted(MODELS)}")
    return MODELS[spec["kind"]].from_spec(spec, order, seed)
