"""The published 1-layer transformer (attention + ReLU MLP, no LayerNorm) on ``(a, b, '=')``,
with TransformerLens's parameter layouts and hook names."""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from grokscope import sizes
from grokscope.hooks import HookedModule, HookPoint
from grokscope.kernels import WeightedRowsMLP, hand_written_applies, take_rows
from grokscope.losses import ResolvedCrossEntropy
from grokscope.models.weights import randn as _randn


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


class Transformer(HookedModule):
    """The published 1-layer, attention + ReLU MLP, no-LayerNorm transformer.

    Input tokens are ``(a, b, '=')`` with ``'=' = order``; logits are read at the last
    position. Parameter layouts follow TransformerLens (``W_Q: (head, d_model, d_head)``).
    """

    kind = "transformer"
    neuron_hook = "blocks.0.mlp.hook_post"
    neuron_pre_hook = "blocks.0.mlp.hook_pre"
    resid_hook = "blocks.0.hook_resid_post"
    resid_mid_hook = "blocks.0.hook_resid_mid"
    attention_hook = "blocks.0.attn.hook_pattern"
    answer_position = 2  # the '=' token
    width_fields = ("d_model", "n_heads", "d_head", "d_mlp")

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

    def takes_tables(self, pairs: torch.Tensor) -> bool:
        """Whether :meth:`fast_forward` and :meth:`fast_loss` take the table path: one layer,
        on the CPU, outside torch.func transforms (its kernels are CPU kernels without vmap
        rules: GPUs and the batched trainer take :meth:`neurons_and_logits`)."""
        return len(self.blocks) == 1 and hand_written_applies(pairs)

    def fast_forward(self, pairs: torch.Tensor) -> torch.Tensor:
        if not self.takes_tables(pairs):
            return self.neurons_and_logits(pairs)[1]
        return self.table_logits(pairs)

    def fast_loss(self, pairs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        if not self.takes_tables(pairs):
            return super().fast_loss(pairs, targets)
        return ResolvedCrossEntropy.apply(self.table_logits(pairs), targets)

    def table_logits(self, pairs: torch.Tensor) -> torch.Tensor:
        """Logits ``(batch, order)`` of a one-layer model, with the attention read as tables.

        The residual stream at '=' is ``x_eq + Σ_head Σ_pos pattern · OV_head(token at pos)``;
        as each head's pattern sums to 1, that is ``x_eq + Σ_head OV_head(x_eq) + Σ_head
        Σ_pos∈{a,b} pattern · OV_head(token at pos − x_eq)``. So its pre-activations and
        direct logits, ``resid @ [W_in | W_U]`` (plus biases), are a pattern-weighted sum of
        2 · heads rows of one table ``OV(every token at a and at b, minus '=') @ [W_in | W_U]``
        plus a constant row: a sparse product with 2 · heads + 1 nonzeros per pair instead of a
        dense ``(batch, d_model)`` one, three times per step (forward, and the two gradients).
        The MLP's output reaches the logits only through ``W_out @ W_U`` ``(d_mlp, order)``.
        Same maths as :meth:`neurons_and_logits`, the sums taken in another order (equal up
        to float32 rounding, tested).
        """
        attn, mlp = self.blocks[0].attn, self.blocks[0].mlp
        W_E, W_pos, W_U = self.embed.W_E, self.pos_embed.W_pos, self.unembed.W_U
        order, heads = self.order, attn.W_Q.shape[0]
        tokens = W_E[:order]
        x_eq = W_E[order] + W_pos[2]  # (d_model,)
        x_ab = torch.cat([tokens + W_pos[0], tokens + W_pos[1]])  # (2·order, d_model): a's, b's
        q = torch.einsum("d,hde->he", x_eq, attn.W_Q)  # (head, d_head)
        key_q = torch.einsum("hde,he->dh", attn.W_K, q) / math.sqrt(attn.d_head)  # (d_model, head)
        scores_ab, score_eq = x_ab @ key_q, x_eq @ key_q  # (2·order, head), (head,)
        read = torch.cat([mlp.W_in, W_U], dim=1)  # (d_model, d_mlp + order)
        # OV then the read-out through each head's d_head: cheaper than OV rows @ read.
        ov_read = torch.matmul(attn.W_O, read)  # (head, d_head, d_mlp + order)
        diffs = torch.matmul(x_ab - x_eq, attn.W_V)  # (head, 2·order, d_head)
        table = torch.bmm(diffs, ov_read).flatten(0, 1)  # (head·2·order, d_mlp + order)
        v_eq = torch.einsum("d,hde->he", x_eq, attn.W_V).flatten()  # (head·d_head,)
        bias = torch.cat([mlp.b_in, mlp.b_out @ W_U])  # (d_mlp + order,)
        constant = x_eq @ read + v_eq @ ov_read.flatten(0, 1) + bias  # (d_mlp + order,)
        table = torch.cat([table, constant[None]])  # the constant row last

        a, b = pairs[:, 0], pairs[:, 1]
        n = len(a)
        pair_scores = torch.stack(
            [take_rows(scores_ab, a), take_rows(scores_ab, b + order), score_eq.expand(n, -1)],
            dim=1,
        )  # (batch, 3, head)
        # Weights in the order of table_rows: (head 0, a), (head 0, b), (head 1, a), …, 1.
        pattern = pair_scores.softmax(dim=1)[:, :2].transpose(1, 2).flatten(1)  # (batch, 2·head)
        weights = torch.cat([pattern, pattern.new_ones(n, 1)], dim=1)  # (batch, 2·head + 1)
        index = self.table_rows(pairs, heads)  # (batch, 2·head + 1)
        return WeightedRowsMLP.apply(weights, table, index, mlp.W_out @ W_U)

    def table_rows(self, pairs: torch.Tensor, heads: int) -> torch.Tensor:
        """The rows ``(batch, 2·heads + 1)`` of :meth:`table_logits`' table that each pair
        reads, increasing (a CSR matrix's columns must be): row ``h·2·order + p·order + t`` for
        head ``h``, position ``p`` (0 for a, 1 for b) and token ``t``, so (h, a) < (h, b) <
        (h + 1, a); the constant row, ``2·heads·order``, last."""
        order = self.order
        first = torch.arange(heads, device=pairs.device) * (2 * order)  # (head,)
        a, b = pairs[:, :1], pairs[:, 1:2]  # (batch, 1) each
        at_a_b = torch.stack([a + first, b + (first + order)], dim=2)  # (batch, head, 2)
        constant = torch.full_like(a, 2 * heads * order)  # (batch, 1)
        return torch.cat([at_a_b.flatten(1), constant], dim=1)

    def neurons_and_logits(self, pairs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Only what reaches the logits: the '=' position's query, MLP and unembedding.

        With one layer the residual stream at positions 0 and 1 is just the token plus
        position embedding, so keys and (value @ W_O) of every possible token are tables of
        ``order`` rows, and the '=' query is one constant vector per head.
        """
        if len(self.blocks) != 1:
            return super().neurons_and_logits(pairs)
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
        # d_model) product per pair and position: faster than stacking the three positions'
        # OV rows into one (batch, head, 3, d_model) tensor for an einsum.
        weights = pattern.transpose(1, 2).contiguous()  # (batch, 3, head)
        from_ab = torch.bmm(weights[:, 0:1], take_rows(ov_a, a)) + torch.bmm(
            weights[:, 1:2], take_rows(ov_b, b)
        )  # (batch, 1, d_model)
        resid = x_eq + from_ab[:, 0] + weights[:, 2] @ ov_eq[0]  # (batch, d_model)
        neurons = F.relu(resid @ mlp.W_in + mlp.b_in)  # (batch, d_mlp)
        resid = resid + neurons @ mlp.W_out + mlp.b_out
        return neurons, resid @ self.unembed.W_U  # (batch, d_mlp), (batch, order)

    @classmethod
    def from_spec(cls, spec: dict[str, Any], order: int, seed: int) -> Transformer:
        return cls(order, spec["d_model"], spec["n_heads"], spec["d_head"], spec["d_mlp"], seed)

    floats_per_pair = staticmethod(sizes.transformer_floats_per_pair)
    parameter_count = staticmethod(sizes.transformer_parameter_count)

    def embedding_matrices(self) -> dict[str, torch.Tensor]:
        # The '=' row of W_E is not a group element.
        return {"W_E": self.embed.W_E.detach()[: self.order], "W_U": self.unembed.W_U.detach().T}

    def neuron_writeout(self) -> tuple[torch.Tensor, torch.Tensor | None, str]:
        mlp = self.blocks[0].mlp  # the MLP output goes into the residual stream
        return mlp.W_out.detach(), mlp.b_out.detach(), "residual stream"

    def neuron_readout(self) -> torch.Tensor:
        # The MLP output goes straight into the residual stream, then the unembedding.
        return self.blocks[0].mlp.W_out.detach() @ self.unembed.W_U.detach()  # (d_mlp, order)
