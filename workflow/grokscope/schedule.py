"""Which epochs of a training run are checkpointed: a pure function of the ``train`` params,
shared by the trainers and the up-front disk budget (which runs at every Snakemake start, so
this module loads no torch)."""

from __future__ import annotations

import numpy as np


def checkpoint_epochs(epochs: int, every: int, n_log: int) -> list[int]:
    """0, ``n_log`` log-spaced epochs below ``every``, every multiple of ``every``, and the end."""
    regular = set(range(0, epochs + 1, every)) | {epochs}
    early = np.unique(np.round(np.geomspace(1, min(every, epochs), n_log + 1)[:-1]).astype(int))
    return sorted(regular | {int(e) for e in early if 0 < e < epochs})
