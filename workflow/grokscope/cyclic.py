"""Signal-processing views of cyclic-group models (seed ``004``): harmonics, neuron phases,
and the residual stream at '=' reordered by ``(c, a)``.

Frequencies are "folded": ``k`` and ``n − k`` are the same real frequency, reported as
``min(k mod n, n − k mod n)``.
"""

from __future__ import annotations

import math

import pandas as pd
import torch

from grokscope.fourier import centred
from grokscope.representations import FourierBasis


def fold(k: int, n: int) -> int:
    """The real frequency of ``k`` on ``C_n``: ``min(k mod n, n − k mod n)``."""
    k %= n
    return min(k, n - k)


def harmonics(keys: list[int], n: int, max_harmonic: int) -> pd.DataFrame:
    """Harmonics ``m·k`` and subharmonics (frequencies ``j`` with ``m·j ≡ ±k``) of each key.

    Returns rows ``key, m, kind (harmonic|subharmonic), frequency`` for ``m = 2..max_harmonic``.
    """
    rows = []
    for k in keys:
        for m in range(2, max_harmonic + 1):
            rows.append((k, m, "harmonic", fold(m * k, n)))
            for j in range(1, n // 2 + 1):
                if fold(m * j, n) == k:
                    rows.append((k, m, "subharmonic", j))
    return pd.DataFrame(rows, columns=["key", "m", "kind", "frequency"])


def sum_difference_frequencies(keys: list[int], n: int) -> list[int]:
    """``fold(k1 ± k2)`` over pairs of keys (``k1 = k2`` included), minus 0 and the keys."""
    out = {fold(k1 + s * k2, n) for k1 in keys for k2 in keys for s in (1, -1)}
    return sorted(out - {0} - set(keys))


def frequency_of(label: str) -> int:
    """``"freq 14"`` → 14."""
    return int(label.split()[-1])


def neuron_phases(pre: torch.Tensor, fb: FourierBasis, frequencies: list[int]) -> pd.DataFrame:
    """Amplitude and phase of each neuron's pre-activation along ``b`` at its frequency.

    A neuron ``≈ A cos(w a + φ) + A cos(w b + φ)`` has coefficients ``A cos φ`` on ``cos w``
    and ``−A sin φ`` on ``sin w`` along ``b`` (averaged over ``a``). ``pre``: ``(n, n, units)``;
    ``frequencies``: each unit's frequency (0 for none). Rows: ``neuron, frequency, amplitude,
    phase`` (phase in radians, in (−π, π]).
    """
    n = fb.group.order
    along_b = centred(pre.double()).mean(dim=0)  # (n, units): the b-dependence
    rows = []
    for neuron, k in enumerate(frequencies):
        if k <= 0 or 2 * k == n:
            rows.append((neuron, k, float("nan"), float("nan")))
            continue
        cos_row, sin_row = fb.labels.index(f"cos {k}"), fb.labels.index(f"sin {k}")
        c = float(fb.basis64[cos_row] @ along_b[:, neuron])
        s = float(fb.basis64[sin_row] @ along_b[:, neuron])
        # basis rows have norm 1, the waves norm √(n/2): rescale to the wave's amplitude.
        scale = math.sqrt(2 / n)
        rows.append((neuron, k, scale * math.hypot(c, s), math.atan2(-s, c)))
    return pd.DataFrame(rows, columns=["neuron", "frequency", "amplitude", "phase"])


def by_c_and_a(values: torch.Tensor) -> torch.Tensor:
    """Reorder ``(n, n, ...)`` indexed by ``(a, b)`` to ``(c, a, ...)`` with ``b = c − a``."""
    n = values.shape[0]
    c = torch.arange(n)[:, None]
    a = torch.arange(n)[None, :]
    return values[a.expand(n, n), (c - a) % n]


def half_c_symmetry(values: torch.Tensor) -> float:
    """Fraction of the centred norm of ``(c, a, ...)`` that is symmetric under ``a ↦ c − a``.

    1.0 means every ``c`` slice is an even function about ``c/2`` (as seed ``004`` observes
    for the residual stream at '='); 0.5 is what unrelated halves give on average.
    """
    n = values.shape[0]
    x = values.double() - values.double().mean(dim=(0, 1), keepdim=True)
    c = torch.arange(n)[:, None]
    a = torch.arange(n)[None, :]
    mirrored = x[c.expand(n, n), (c - a) % n]
    symmetric = (x + mirrored) / 2
    return float(symmetric.pow(2).sum() / x.pow(2).sum())
