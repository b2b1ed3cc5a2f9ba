"""Fast training kernels: exact shortcuts for the CPU training step, kept apart from the
readable models in :mod:`grokscope.models`.

- :func:`take_rows`: row gathers whose backward is one scatter-add on the CPU;
- :func:`fold_first_layer`: the one-hidden-layer MLP's first layer folded into per-element
  tables;
- :class:`FoldedMLPLoss`: that MLP's training loss with a hand-written backward;
- :class:`WeightedRowsMLP`: a ReLU layer's logits from weighted sums of table rows (the
  one-layer transformer's attention read as tables), with a hand-written sparse backward.

Each is tested against the readable model's values and gradients
(``tests/test_models.py``); ``benchmarks/README.md`` has what each saves. The training losses
they resolve like float64 are in :mod:`grokscope.losses`.
"""

from __future__ import annotations

import warnings
from typing import Any

import torch
import torch.nn.functional as F
from torch.autograd.function import once_differentiable

from grokscope.losses import resolved_losses


def under_torch_func() -> bool:
    """Whether a torch.func transform (vmap, grad, …) is running: the batched trainer's vmap.

    No public API tells; this private one is what ``autograd.Function.apply`` itself checks.
    """
    return torch._C._are_functorch_transforms_active()


def hand_written_applies(x: torch.Tensor) -> bool:
    """Whether this module's hand-written kernels may run on ``x``: on the CPU (their
    scatter-adds are not deterministic on GPUs) and outside torch.func transforms
    (``autograd.Function.apply`` refuses them there; they have no vmap rules)."""
    return x.device.type == "cpu" and not under_torch_func()


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
    if not hand_written_applies(table):
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
    ``cross_entropy64(OneLayerMLP.fast_forward(pairs), y)``: ``logits = ReLU((W_E_a @ W_top)[a]
    + (W_E_b @ W_bottom)[b]) @ W_U``. Why by hand: on the CPU the step is memory-bound once the
    first layer is folded, and autograd's version makes extra full passes over the
    (batch, hidden) and (batch, order) buffers. Here the softmax gradient is built in place from
    the saved probabilities, the 1/batch scale goes into the small (hidden, order) operands
    instead of a pass over the (batch, order) gradient, the ReLU mask is applied in place, and
    ``W_U``'s gradient is computed as ``(dlogits^T @ hidden)^T`` (the faster GEMM layout).

    Resolved like :func:`grokscope.losses.cross_entropy64`, without its float64 passes over
    (batch, order) (float64 ``exp`` is the slow part; ``benchmarks/README.md``): see
    :func:`grokscope.losses.resolved_losses`. Every value equals float64's to about 1e-6
    relative, and the gradient over the answers sums to zero (tested against a float64
    reference at a loss of 1e-7).
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
        loss, others, d_y = resolved_losses(hidden @ W_U, y)
        ctx.save_for_backward(W_E_a, W_E_b, W, W_U, a, b, y, hidden, others, d_y)
        return loss.double().mean()

    @staticmethod
    @once_differentiable
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[torch.Tensor | None, ...]:
        W_E_a, W_E_b, W, W_U, a, b, y, hidden, others, d_y = ctx.saved_tensors
        e, n = W_E_a.shape[1], len(y)
        scale = grad.float() / n  # d(mean)/d(per-pair loss), times the upstream gradient
        # d(per-pair loss)/d(logits) = softmax − onehot(y); `others` is ours to overwrite.
        dlogits = others.scatter_(1, y[:, None], d_y)  # (batch, order)
        d_W_U = (dlogits.T @ hidden).T * scale  # (hidden, order)
        d_hidden = dlogits @ (W_U.T * scale)  # (batch, hidden)
        torch.ops.aten.threshold_backward.grad_input(d_hidden, hidden, 0, grad_input=d_hidden)
        rows = (W_E_a.shape[0], d_hidden.shape[1])
        d_pre_a = d_hidden.new_zeros(rows).index_add_(0, a, d_hidden)  # (order, hidden)
        d_pre_b = d_hidden.new_zeros(rows).index_add_(0, b, d_hidden)  # (order, hidden)
        d_W = torch.cat([W_E_a.T @ d_pre_a, W_E_b.T @ d_pre_b])  # (2·embed, hidden)
        return d_pre_a @ W[:e].T, d_pre_b @ W[e:].T, d_W, d_W_U, None, None, None


def _csr(
    crow: torch.Tensor, col: torch.Tensor, values: torch.Tensor, size: tuple[int, int]
) -> torch.Tensor:
    # The structure is built here from known-valid indices: no invariant checks (they cost a
    # pass over the indices), and torch's "beta" notice for CSR tensors silenced.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Sparse CSR tensor support is in beta")
        return torch.sparse_csr_tensor(crow, col, values, size, check_invariants=False)


class WeightedRowsMLP(torch.autograd.Function):
    """Logits ``(batch, order)`` of a ReLU layer read from weighted sums of table rows, for the
    CPU. Inputs: ``weights (batch, k)``, ``table (rows, d_mlp + order)``, ``index (batch, k)``
    int64, each pair's rows increasing and without repeats (they are the column indices of a
    CSR matrix, which torch's sparse kernels assume and do not check), ``readout (d_mlp,
    order)``.

    ``summed[n] = Σ_k weights[n, k] · table[index[n, k]]`` (a sparse ``(batch, rows)`` matrix
    with ``k`` nonzeros per row times the table), split into pre-activations (its first
    ``d_mlp`` columns) and direct logits (the rest): ``logits = summed[:, d_mlp:] +
    ReLU(summed[:, :d_mlp]) @ readout``.

    Forward: ``F.embedding_bag`` with per-sample weights. Backward by hand, because
    ``embedding_bag``'s own backward runs on one thread: the table's gradient is the transposed
    sparse matrix (CSR, its structure from a stable sort of ``index``) times the gradient of
    ``summed``, and the weights' gradient one dot product per nonzero
    (``torch.sparse.sampled_addmm``, an SDDMM). Both gradients of ``summed``'s halves are
    written into one buffer (autograd would zero-fill and add two full-width buffers for the
    two slices), and ``readout``'s gradient is taken as ``(dlogits^T @ neurons)^T`` (the
    faster GEMM layout). No vmap rule: callers take another path under torch.func transforms.
    """

    @staticmethod
    def forward(
        ctx: Any,
        weights: torch.Tensor,
        table: torch.Tensor,
        index: torch.Tensor,
        readout: torch.Tensor,
    ) -> torch.Tensor:
        (d_mlp, order), width = readout.shape, table.shape[1]
        # Rows padded to a multiple of 16 floats (64 bytes): the backward writes a matmul's
        # output into the first d_mlp columns of a (batch, width) buffer, which BLAS does at
        # the speed of a contiguous output only when its rows are so aligned.
        table = F.pad(table, (0, -width % 16))  # (rows, padded width)
        summed = F.embedding_bag(index, table, per_sample_weights=weights, mode="sum")
        neurons = summed[:, :d_mlp].relu()  # (batch, d_mlp)
        ctx.save_for_backward(weights, table, index, readout, neurons)
        ctx.width = width
        return torch.addmm(summed[:, d_mlp : d_mlp + order], neurons, readout)  # (batch, order)

    @staticmethod
    @once_differentiable
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[torch.Tensor | None, ...]:
        weights, table, index, readout, neurons = ctx.saved_tensors  # table: padded
        (batch, k), (rows, padded), (d_mlp, order) = index.shape, table.shape, readout.shape
        grad = grad.contiguous()  # (batch, order)
        d_readout = (grad.T @ neurons).T if ctx.needs_input_grad[3] else None
        d_summed = grad.new_empty(batch, padded)  # (batch, padded width)
        d_pre = d_summed[:, :d_mlp]  # a strided view: mm writes it in place
        torch.mm(grad, readout.T, out=d_pre)
        torch.ops.aten.threshold_backward.grad_input(d_pre, neurons, 0, grad_input=d_pre)
        d_summed[:, d_mlp : d_mlp + order] = grad
        d_summed[:, d_mlp + order :] = 0  # the padding: no garbage into the sums below
        flat = index.reshape(-1)  # (batch·k,): pair n's nonzeros at n·k … n·k + k-1
        d_weights = d_table = None
        if ctx.needs_input_grad[0]:
            crow = torch.arange(0, batch * k + 1, k, device=index.device)  # (batch + 1,)
            pattern = _csr(crow, flat, weights.reshape(-1), (batch, rows))
            # beta=0: only the sampled products; the pattern's values are not added.
            d_weights = torch.sparse.sampled_addmm(pattern, d_summed, table.T, beta=0)
            d_weights = d_weights.values().view(batch, k)
        if ctx.needs_input_grad[1]:
            # The nonzeros by table row, sorted on the narrowest key that holds a row number:
            # the CPU's radix sort makes one pass per key byte.
            key = flat.to(torch.int16 if rows <= torch.iinfo(torch.int16).max else torch.int32)
            by_row = torch.argsort(key, stable=True)  # (batch·k,)
            counts = torch.bincount(flat, minlength=rows)  # (rows,)
            t_crow = torch.cat([counts.new_zeros(1), counts.cumsum(0)])  # (rows + 1,)
            t_col = by_row.div(k, rounding_mode="floor")  # (batch·k,): each nonzero's pair
            transposed = _csr(t_crow, t_col, weights.reshape(-1)[by_row], (rows, batch))
            d_table = torch.sparse.mm(transposed, d_summed)[:, : ctx.width]  # (rows, width)
        return d_weights, d_table, None, d_readout
