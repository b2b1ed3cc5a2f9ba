"""Fast training kernels: exact shortcuts for the CPU training step, kept apart from the
readable models in :mod:`grokscope.models`.

- :func:`take_rows`: row gathers whose backward is one scatter-add on the CPU;
- :func:`fold_first_layer`: the one-hidden-layer MLP's first layer folded into per-element
  tables;
- :class:`FoldedMLPLoss`: that MLP's training loss with a hand-written backward.

Each is tested against the readable model's values and gradients
(``tests/test_models.py``); ``benchmarks/README.md`` has what each saves.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch.autograd.function import once_differentiable


def under_torch_func() -> bool:
    """Whether a torch.func transform (vmap, grad, …) is running: the batched trainer's vmap.

    No public API tells; this private one is what ``autograd.Function.apply`` itself checks.
    """
    return torch._C._are_functorch_transforms_active()


def _embedding_rows(table: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
    # F.embedding on a 2-D view: (rows, *rest), index (...) → (..., *rest). No view for 2-D
    # tables: under vmap, viewing the rows before the MLP's in-place add is slower.
    if table.dim() == 2:
        return F.embedding(index, table)
    return F.embedding(index, table.flatten(1)).view(*index.shape, *table.shape[1:])


class _TakeRows(torch.autograd.Function):
    """``table[index]`` whose backward is one scatter-add (``index_add``), for the CPU.

    Same values and gradients as ``F.embedding(index, table)`` (bit for bit in our tests), but
    ``F.embedding``'s dense backward is several times slower on the CPU than one ``index_add``;
    on the folded MLP that is the largest cost after the matmuls.
    """

    generate_vmap_rule = True  # correct under vmap, but take_rows avoids it there (slower)

    @staticmethod
    def forward(table: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
        return table.index_select(0, index)  # (len(index), *table.shape[1:])

    @staticmethod
    def setup_context(ctx: Any, inputs: tuple[torch.Tensor, torch.Tensor], output: Any) -> None:
        table, index = inputs
        ctx.save_for_backward(index)
        ctx.rows = table.shape[0]

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[torch.Tensor, None]:
        (index,) = ctx.saved_tensors
        # index_add is much slower on strided gradients (slices of a stacked tensor's).
        rows = grad.new_zeros(ctx.rows, *grad.shape[1:])
        return rows.index_add_(0, index, grad.contiguous()), None


def take_rows(table: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
    """Rows ``table[index]``: ``(rows, *rest)``, ``(n,)`` → ``(n, *rest)``.

    Differentiable in ``table``, with the backward that is fastest where it runs: a scatter-add
    on the CPU; ``F.embedding``'s on GPUs (deterministic there, unlike a scatter-add's atomics)
    and under vmap (the batched trainer), where vmap's own rule for ``F.embedding`` is faster
    than a vmapped autograd.Function.
    """
    if table.device.type != "cpu" or under_torch_func():
        return _embedding_rows(table, index)
    return _TakeRows.apply(table, index)


def fold_first_layer(
    W_E_a: torch.Tensor, W_E_b: torch.Tensor, W: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """OneLayerMLP's first layer folded into per-element tables ``(order, hidden)`` each.

    concat(W_E_a[a], W_E_b[b]) @ W == (W_E_a @ W_top)[a] + (W_E_b @ W_bottom)[b]: the hidden
    pre-activation of pair (a, b) is the sum of two table rows, so the layer costs order rows
    instead of batch rows. ``W_E_a, W_E_b`` ``(order, embed)``, ``W`` ``(2·embed, hidden)``.
    """
    # One bmm over a view of W (not two matmuls over slices W[:e], W[e:]): a slice's
    # backward allocates and zero-fills a gradient of W's full size, twice per step.
    e, hidden = W_E_a.shape[1], W.shape[1]
    halves = W.view(2, e, hidden)  # (2, embed, hidden): W_top, W_bottom
    pre_a, pre_b = torch.bmm(torch.stack([W_E_a, W_E_b]), halves).unbind(0)
    return pre_a, pre_b


class FoldedMLPLoss(torch.autograd.Function):
    """Mean cross-entropy of the folded one-hidden-layer MLP, with a hand-written backward.

    Inputs: ``W_E_a, W_E_b`` ``(order, embed)``, ``W`` ``(2·embed, hidden)``, ``W_U``
    ``(hidden, order)``, ``a, b, y`` ``(batch,)`` int64. Same maths as
    ``F.cross_entropy(OneLayerMLP.fast_forward(pairs), y)``: ``logits = ReLU((W_E_a @ W_top)[a]
    + (W_E_b @ W_bottom)[b]) @ W_U``. Why by hand: on the CPU the step is memory-bound once the
    first layer is folded, and autograd's version makes extra full passes over the
    (batch, hidden) and (batch, order) buffers. Here the softmax gradient is built in place from
    the saved log-probabilities, the 1/batch scale goes into the small (hidden, order) operands
    instead of a pass over the (batch, order) gradient, the ReLU mask is applied in place, and
    ``W_U``'s gradient is computed as ``(dlogits^T @ hidden)^T`` (the faster GEMM layout).
    """

    @staticmethod
    def forward(
        ctx: Any,
        W_E_a: torch.Tensor,
        W_E_b: torch.Tensor,
        W: torch.Tensor,
        W_U: torch.Tensor,
        a: torch.Tensor,
        b: torch.Tensor,
        y: torch.Tensor,
    ) -> torch.Tensor:
        pre_a, pre_b = fold_first_layer(W_E_a, W_E_b, W)  # (order, hidden) each
        hidden = pre_a.index_select(0, a).add_(pre_b.index_select(0, b)).relu_()  # (batch, hidden)
        log_probs = torch.log_softmax(hidden @ W_U, dim=1)  # (batch, order)
        ctx.save_for_backward(W_E_a, W_E_b, W, W_U, a, b, y, hidden, log_probs)
        return -log_probs.gather(1, y[:, None]).mean()

    @staticmethod
    @once_differentiable
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[torch.Tensor | None, ...]:
        W_E_a, W_E_b, W, W_U, a, b, y, hidden, log_probs = ctx.saved_tensors
        e, n = W_E_a.shape[1], len(y)
        scale = grad / n  # d(mean)/d(per-pair loss), times the upstream gradient
        # d(per-pair loss)/d(logits) = softmax − onehot(y); log_probs is ours to overwrite.
        dlogits = log_probs.exp_().index_put_(
            (torch.arange(n, device=y.device), y), log_probs.new_tensor(-1.0), accumulate=True
        )  # (batch, order)
        d_W_U = (dlogits.T @ hidden).T * scale  # (hidden, order)
        d_hidden = dlogits @ (W_U.T * scale)  # (batch, hidden)
        torch.ops.aten.threshold_backward.grad_input(d_hidden, hidden, 0, grad_input=d_hidden)
        rows = (W_E_a.shape[0], d_hidden.shape[1])
        d_pre_a = d_hidden.new_zeros(rows).index_add_(0, a, d_hidden)  # (order, hidden)
        d_pre_b = d_hidden.new_zeros(rows).index_add_(0, b, d_hidden)  # (order, hidden)
        d_W = torch.cat([W_E_a.T @ d_pre_a, W_E_b.T @ d_pre_b])  # (2·embed, hidden)
        return d_pre_a @ W[:e].T, d_pre_b @ W[e:].T, d_W, d_W_U, None, None, None
