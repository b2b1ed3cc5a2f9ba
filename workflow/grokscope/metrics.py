"""Losses and accuracies of logits against labels, in float64."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def loss_and_accuracy(logits: torch.Tensor, y: torch.Tensor) -> tuple[float, float]:
    """(cross-entropy, accuracy) of ``logits (batch, order)`` against labels ``y (batch,)``.

    The loss is computed in float64: a grokked model's loss is ~1e-7, below float32's
    resolution of log-softmax near probability 1.
    """
    loss = F.cross_entropy(logits.double(), y)
    acc = (logits.argmax(dim=1) == y).double().mean()
    return loss.item(), acc.item()


def split_losses(
    logits: torch.Tensor, labels: torch.Tensor, is_train: torch.Tensor
) -> dict[str, float]:
    """``train_loss, test_loss, train_acc, test_acc`` of all-pairs logits ``(order², order)``
    against ``labels (order²,)``, split by ``is_train (order²,)``."""
    out = {}
    for split, mask in (("train", is_train), ("test", ~is_train)):
        out[f"{split}_loss"], out[f"{split}_acc"] = loss_and_accuracy(logits[mask], labels[mask])
    return out


def split_loss(logits: torch.Tensor, labels: torch.Tensor, mask: torch.Tensor) -> float:
    """Cross-entropy (float64) of the rows of ``logits (batch, order)`` where ``mask``: one
    split's loss, when its accuracy and the other split are not needed."""
    return F.cross_entropy(logits[mask].double(), labels[mask]).item()


def pair_losses(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Each row's cross-entropy (float64) of ``logits (batch, order)``: ``(batch,)``, for
    several splits' losses from one pass."""
    return F.cross_entropy(logits.double(), labels, reduction="none")
