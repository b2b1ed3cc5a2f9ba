"""Seed ``004``'s frequency ablations of the neurons of a cyclic-group model, exactly as the
notebook does them, beside the project's two-input generalisation.

The notebook (``remove_freqs_from_hook``) reshapes the post-ReLU neurons so that the inputs
are the last two axes, ``(…, a, b)``, and calls ``torch.fft.fft`` on the **last axis only**:
for each ``a``, the neurons as functions of ``b`` lose the frequencies ``f`` and ``n − f``;
the dependence on ``a`` is left alone. It then maps the neurons through ``W_out`` and ``W_U``
and measures the loss at '='. Its two ablations are

- *without sum/difference frequencies*: ``get_sum_and_difference_frequencies(key_freqs)``:
  ``|k1 ± k2|`` folded below ``n/2`` for every pair of keys (``k1 = k2`` included), 0
  dropped — the keys themselves are **not** removed from that list (a key that is the sum or
  difference of two others is ablated too);
- *key frequencies only*: every frequency in ``range(1, n // 2)`` that is not a key (so
  ``(n − 1)/2`` for odd ``n`` is never removed).

The generalisation (:func:`remove_frequencies`, rows named ``… (both inputs)``) removes the
frequencies along ``a`` and ``b`` together (every 2-D DFT bin whose ``a`` or ``b`` frequency is
dropped), takes the sum/difference list without the keys, and treats every frequency up to
``n/2`` as a candidate for "key frequencies only".
"""

from __future__ import annotations

from typing import Any

import torch

from grokscope.ablations import AllPairs
from grokscope.cyclic import sum_difference_frequencies

SEED_ABLATIONS = {
    "without sum/difference frequencies": "seed 004: without sum/difference frequencies (along b)",
    "key frequencies only": "seed 004: key frequencies only (along b)",
}
BOTH_INPUTS = {
    "without sum/difference frequencies": "without sum/difference frequencies (both inputs)",
    "key frequencies only": "key frequencies only (both inputs)",
}


def seed_sum_difference_frequencies(keys: list[int], n: int) -> list[int]:
    """Seed ``004``'s ``get_sum_and_difference_frequencies``: for every pair of keys ``k1, k2``,
    ``k1 + k2`` and ``|k1 − k2|``, each mirrored below ``n/2`` (``n − x`` when ``x > n/2``), 0
    dropped, sorted; keys are kept in the list."""
    out = set()
    for k1 in keys:
        for k2 in keys:
            big, small = max(k1, k2), min(k1, k2)
            for x in (big + small, big - small):
                x = n - x if x > n / 2 else x
                if x != 0:
                    out.add(x)
    return sorted(out)


def seed_non_key_frequencies(keys: list[int], n: int) -> list[int]:
    """What seed ``004`` removes for "key frequencies only": ``range(1, n // 2)`` minus keys."""
    return [f for f in range(1, n // 2) if f not in keys]


def remove_frequencies_along_b(values: torch.Tensor, freqs: list[int]) -> torch.Tensor:
    """Seed ``004``'s ``remove_freqs_from_hook``: zero frequencies ``f`` and ``n − f`` of each
    ``b``-row (an FFT along ``b`` for every ``a``): ``(n, n, units)`` indexed ``(a, b, unit)``
    → same shape. The real part of the inverse FFT, as in the notebook."""
    n = values.shape[1]
    spectrum = torch.fft.fft(values.double(), dim=1)  # (a, frequency along b, units)
    for f in freqs:
        if f % n:
            spectrum[:, f % n] = 0
            spectrum[:, (n - f) % n] = 0
    return torch.fft.ifft(spectrum, dim=1).real.to(values.dtype)


def remove_frequencies(values: torch.Tensor, freqs: list[int]) -> torch.Tensor:
    """The generalisation: zero frequencies ``freqs`` (and ``n − f``) along both inputs of
    ``(n, n, units)`` (every 2-D DFT bin whose ``a`` or ``b`` frequency is dropped)."""
    n = values.shape[0]
    spectrum = torch.fft.fft2(values.double(), dim=(0, 1))
    drop = torch.zeros(n, dtype=torch.bool)
    for f in freqs:
        drop[f % n] = drop[(-f) % n] = True
    spectrum[drop] = 0
    spectrum[:, drop] = 0
    return torch.fft.ifft2(spectrum, dim=(0, 1)).real.to(values.dtype)


def frequency_rows(
    s: AllPairs, n: int, neurons: torch.Tensor, key_freqs: list[int]
) -> list[dict[str, Any]]:
    """Seed ``004``'s two ablations exactly (FFT along ``b``), then the two-input
    generalisation, for ``C_n``: one row each, target ``neurons``."""
    removed = {
        SEED_ABLATIONS["without sum/difference frequencies"]: (
            remove_frequencies_along_b, seed_sum_difference_frequencies(key_freqs, n)
        ),
        SEED_ABLATIONS["key frequencies only"]: (
            remove_frequencies_along_b, seed_non_key_frequencies(key_freqs, n)
        ),
        BOTH_INPUTS["without sum/difference frequencies"]: (
            remove_frequencies, sum_difference_frequencies(key_freqs, n)
        ),
        BOTH_INPUTS["key frequencies only"]: (
            remove_frequencies, [f for f in range(1, n // 2 + 1) if f not in key_freqs]
        ),
    }  # fmt: skip
    return [
        s.row(name, "neurons", s.with_neurons(remove(neurons, freqs)))
        for name, (remove, freqs) in removed.items()
    ]
