"""The dataset of a group operation: every pair (a, b) with label c = a ∘ b, split in two.

Pure functions only; reading and writing Parquet lives in :mod:`grokscope.io`.
"""

from __future__ import annotations

import random

import pandas as pd
import torch

from grokscope.groups import Group

SPLIT_MODES = ("seeded", "published")


def all_pairs(group: Group) -> torch.Tensor:
    """Every pair in row-major order: ``(order², 3)`` int64 rows ``(a, b, a ∘ b)``."""
    n = group.order
    a = torch.arange(n).repeat_interleave(n)  # (order²,)
    b = torch.arange(n).repeat(n)  # (order²,)
    return torch.stack([a, b, group.table[a, b]], dim=1)


def train_mask(num_pairs: int, frac_train: float, seed: int, mode: str = "seeded") -> torch.Tensor:
    """Which row-major pairs are in the training set: ``(num_pairs,)`` bool.

    ``seeded``: a permutation from ``torch.Generator().manual_seed(seed)`` (its own generator,
    so nothing else's random state matters; seed 0 shuffles like any other seed).
    ``published``: Python ``random.seed(seed)`` then ``random.shuffle`` of the row-major pair
    indices, as in the published mod-113 run.
    In both, the first ``int(frac_train * num_pairs)`` shuffled pairs are the training set.
    """
    if mode == "seeded":
        order = torch.randperm(num_pairs, generator=torch.Generator().manual_seed(seed))
    elif mode == "published":
        indices = list(range(num_pairs))
        rng = random.Random(seed)
        rng.shuffle(indices)
        order = torch.tensor(indices)
    else:
        raise ValueError(f"unknown split mode {mode!r}; choose one of {SPLIT_MODES}")
    mask = torch.zeros(num_pairs, dtype=torch.bool)
    mask[order[: int(frac_train * num_pairs)]] = True
    return mask


def make_dataset(group: Group, frac_train: float, seed: int, mode: str = "seeded") -> pd.DataFrame:
    """All pairs as a table with columns ``a, b, c`` (int64) and ``split`` (train/test)."""
    pairs = all_pairs(group).numpy()
    is_train = train_mask(len(pairs), frac_train, seed, mode).numpy()
    split = pd.Categorical.from_codes(is_train.astype("int8"), categories=["test", "train"])
    return pd.DataFrame({"a": pairs[:, 0], "b": pairs[:, 1], "c": pairs[:, 2], "split": split})
