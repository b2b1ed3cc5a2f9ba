"""Weight initialisation shared by the architectures: the source notebooks' scale and order."""

from __future__ import annotations

import math

import torch
from torch import nn


def randn(gen: torch.Generator, *shape: int, fan: int) -> nn.Parameter:
    """A parameter drawn from ``gen`` as ``randn(*shape) / sqrt(fan)``.

    Divides as the notebooks do (multiplying by 1/sqrt differs in ulps).
    """
    return nn.Parameter(torch.randn(*shape, generator=gen) / math.sqrt(fan))
