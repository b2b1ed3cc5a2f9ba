"""The training loss, resolved near 1e-7: a memorised training set's loss is below float32's
resolution near probability 1, so the cross-entropy is taken in float64
(:func:`cross_entropy64`, as in the published run's code) or from float32 passes that resolve
it the same way (:func:`resolved_losses`, :class:`ResolvedCrossEntropy`, and the fused MLP
loss in :mod:`grokscope.kernels`). Tested against float64 references at a loss of 1e-7
(``tests/test_models.py``).
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch.autograd.function import once_differentiable

LOG_HALF = -0.6931471805599453  # log(1/2)


def cross_entropy64(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy ``()`` (float64) of ``logits (batch, order)`` against ``targets
    (batch,)``, the log-softmax and the loss in float64, as in the published run's code.

    Why: once a model has memorised its training set, a pair's loss is ``-log p_y`` with the
    answer's probability ``p_y`` within ~1e-7 of 1, where float32 has steps of 6e-8. A float32
    log-softmax rounds that loss, and the answer's gradient ``p_y - 1``, to 0 or a multiple of
    6e-8 while the other answers' gradients stay exact, so the gradient no longer sums to zero
    over the answers. Trained so, the published configuration's train loss jumps from ~2e-7 to
    1e-3…1e-1 every ~1,500 epochs after memorising; with this loss it keeps falling
    (``tests/test_training_precision.py``). The logits may stay float32 (their gradient comes
    back in float32).
    """
    return F.cross_entropy(logits.double(), targets)


def resolved_losses(
    logits: torch.Tensor, y: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Each pair's cross-entropy ``(batch, 1)`` of float32 ``logits (batch, order)`` against
    ``y (batch,)``, resolved like :func:`cross_entropy64` without its float64 passes, and
    what its gradient needs: ``others (batch, order)``, the softmax with the answer's column
    zeroed, and ``d_y (batch, 1)``, the answer's ``p_y - 1``.

    A float32 log-softmax gives every probability to about 1e-6 relative, except that an
    answer's ``log p_y`` near 0 (a memorised pair) is all log-sum-exp rounding. So when
    ``p_y > 1/2`` the loss and ``p_y - 1`` come from ``1 - p_y`` summed from the other answers'
    probabilities (from ``log p_y`` otherwise, where nothing cancels). Overwrites nothing of
    ``logits``.
    """
    log_probs = torch.log_softmax(logits, dim=1)  # (batch, order)
    log_p_y = log_probs.gather(1, y[:, None])  # (batch, 1)
    # The other answers' probabilities (the answer's column zeroed), in place, and their sum
    # 1 - p_y: resolved however small, unlike 1 - exp(log_p_y).
    others = log_probs.exp_().scatter_(1, y[:, None], 0.0)  # (batch, order)
    rest = others.sum(1, keepdim=True)  # (batch, 1)
    sure = log_p_y > LOG_HALF  # (batch, 1): p_y > 1/2, where 1 - p_y is the exact one
    loss = torch.where(sure, -torch.log1p(-rest), -log_p_y)  # (batch, 1)
    d_y = torch.where(sure, -rest, log_p_y.expm1())  # (batch, 1): p_y - 1
    return loss, others, d_y


class ResolvedCrossEntropy(torch.autograd.Function):
    """Mean cross-entropy ``()`` (float64) of float32 ``logits (batch, order)`` against
    ``y (batch,)``: :func:`resolved_losses` with a hand-written backward, for the CPU.

    Same value and gradient as :func:`cross_entropy64` to about 1e-6 relative, at a fraction
    of its cost: no float64 copy of the logits, no float64 ``exp``, and the gradient built in
    place from the saved probabilities. No vmap rule: callers use cross_entropy64 under
    torch.func transforms.
    """

    @staticmethod
    def forward(ctx: Any, logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        loss, others, d_y = resolved_losses(logits, y)
        ctx.save_for_backward(y, others, d_y)
        return loss.double().mean()

    @staticmethod
    @once_differentiable
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[torch.Tensor | None, None]:
        y, others, d_y = ctx.saved_tensors
        scale = grad.float() / len(y)  # d(mean)/d(per-pair loss), times the upstream gradient
        # d(per-pair loss)/d(logits) = softmax − onehot(y); `others` is ours to overwrite.
        return others.scatter_(1, y[:, None], d_y).mul_(scale), None
