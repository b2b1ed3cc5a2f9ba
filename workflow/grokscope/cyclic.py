"""Signal-processing views of cyclic-group models (seed ``004``): harmonics, neuron phases,
idealised neurons, and the residual stream at '=' reordered by ``(c, a)``.

Frequencies are "folded": ``k`` and ``n − k`` are the same real frequency, reported as
``min(k mod n, n − k mod n)``. In the Fourier basis of ``C_n``, frequency ``k`` is the irrep
with index ``k`` (:func:`grokscope.representations.fourier_basis`), so tables that carry an
``irrep_index`` carry the frequency.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
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


def paper_neuron_frequencies(
    fractions: torch.Tensor, n: int, clean_threshold: float
) -> dict[str, Any]:
    """The paper's per-neuron key-frequency rule ("Progress measures for grokking", its
    ``neuron_freqs`` / ``np.unique``): each neuron's frequency is the ``k`` in ``range(1, n // 2)``
    whose 2-D block (``1, cos k, sin k`` along each input) explains most of its centred
    variance; the key frequencies are the distinct frequencies over all neurons (before the
    ``clean_threshold`` that makes clusters).

    Args:
        fractions: ``(units, n_irreps)`` from :func:`grokscope.neurons.irrep_fractions` on
            ``C_n`` (irrep ``k`` is frequency ``k``); dead neurons (NaN) are skipped.

    Returns:
        ``keys`` (ascending), ``neurons`` and ``clean`` (frequency label → neuron count).
    """
    candidates = fractions[:, 1 : n // 2]  # frequencies 1 .. n//2 − 1, as in the paper
    alive = ~candidates.isnan().all(dim=1)
    best = candidates[alive].nan_to_num(-1.0).argmax(dim=1) + 1  # (alive units,)
    best_fraction = candidates[alive].nan_to_num(-1.0).max(dim=1).values
    keys = sorted(set(best.tolist()))
    return {
        "keys": keys,
        "neurons": {f"freq {k}": int((best == k).sum()) for k in keys},
        "clean": {
            f"freq {k}": int(((best == k) & (best_fraction >= clean_threshold)).sum()) for k in keys
        },
    }


def wave_rows(fb: FourierBasis, k: int) -> tuple[int, int] | None:
    """The basis rows ``(cos k, sin k)`` of frequency ``k`` of ``C_n``; ``None`` for ``k = 0``
    and for ``k = n/2`` (a single real row, no phase)."""
    irrep = fb.irreps[k]
    return tuple(irrep.rows) if k > 0 and irrep.dim == 2 else None


def neuron_phases(pre: torch.Tensor, fb: FourierBasis, frequencies: list[int]) -> pd.DataFrame:
    """Amplitude and phase of each neuron's pre-activation at its frequency, along ``b``
    (averaged over ``a``) and along ``a`` (averaged over ``b``).

    The phase model: a neuron ``≈ A cos(w a + φ_a) + A cos(w b + φ_b)`` has coefficients
    ``A cos φ`` on ``cos w`` and ``−A sin φ`` on ``sin w`` along each input. A transformer
    reads one embedding at ``a`` and at ``b``, so ``φ_a = φ_b``; the MLPs embed ``a`` and ``b``
    separately. :func:`phase_model_agreement` says which holds, and
    :func:`grokscope.cyclic_ideal.ideal_neurons` builds idealised neurons from these phases.
    ``pre``: ``(n, n, units)``; ``frequencies``: each unit's frequency (0 for none). Rows:
    ``neuron, frequency, amplitude, phase, amplitude_a, phase_a`` (radians, in (−π, π]).
    """
    n = fb.group.order
    centred_pre = centred(pre.double())
    along = {"b": centred_pre.mean(dim=0), "a": centred_pre.mean(dim=1)}  # (n, units) each
    scale = math.sqrt(2 / n)  # basis rows have norm 1, the waves norm √(n/2)
    rows = []
    for neuron, k in enumerate(frequencies):
        waves = wave_rows(fb, k) if k > 0 else None
        row: list[float] = [neuron, k]
        for axis in ("b", "a"):
            if waves is None:
                row += [float("nan"), float("nan")]
                continue
            c = float(fb.basis64[waves[0]] @ along[axis][:, neuron])
            s = float(fb.basis64[waves[1]] @ along[axis][:, neuron])
            row += [scale * math.hypot(c, s), math.atan2(-s, c)]
        rows.append(row)
    columns = ["neuron", "frequency", "amplitude", "phase", "amplitude_a", "phase_a"]
    return pd.DataFrame(rows, columns=columns).astype({"neuron": int, "frequency": int})


def wrap(angle: np.ndarray) -> np.ndarray:
    """Angles wrapped to (−π, π]."""
    return np.pi - np.mod(np.pi - np.asarray(angle), 2 * np.pi)


def phase_model_agreement(phases: pd.DataFrame, key_freqs: list[int]) -> dict[str, float]:
    """Which phase model the key-frequency neurons follow, as median absolute angles:
    ``one_phase`` = ``|φ_a − φ_b|`` (0 when both inputs share a phase, as in a transformer
    reading one embedding at ``a`` and at ``b``); ``opposite_phase`` = ``|φ_a + φ_b|`` (0 for
    seed ``004``'s mock ``cos(φ − wa) + cos(φ + wb)``); ``readout_vs_phase_sum`` =
    ``|ψ − (φ_a + φ_b)|`` with ``ψ = atan2(−readout_sin, readout_cos)``: 0 when each neuron
    writes ``cos(wc + φ_a + φ_b)``, what the product term ``cos(w(a + b) + φ_a + φ_b)`` of a
    ReLU of ``cos(wa + φ_a) + cos(wb + φ_b)`` needs to add up to ``cos(w(a + b − c))``. Near
    π/2 means unrelated. NaN without such neurons."""
    known = phases[phases["frequency"].isin(key_freqs) & phases["phase"].notna()]
    out = {
        "one_phase": wrap(known["phase_a"] - known["phase"]),
        "opposite_phase": wrap(known["phase_a"] + known["phase"]),
    }
    if "readout_cos" in known:
        psi = np.arctan2(-known["readout_sin"], known["readout_cos"])
        out["readout_vs_phase_sum"] = wrap(psi - known["phase_a"] - known["phase"])
    return {k: float(np.median(np.abs(v))) if len(v) else float("nan") for k, v in out.items()}


def keep_frequency(values: torch.Tensor, k: int) -> torch.Tensor:
    """Only the constant and frequency ``k`` along each input (seed ``004``'s "all frequencies
    zeroed except this one", over ``(a, b)``): ``(n, n, …)`` → same shape.

    The notebook's ``pull_out_freqs(x, k, dims=[-2, -1])[1]`` is meant to do this, but with a
    single frequency its "kept" slot is also the "rest" slot, so it returns the complement
    (everything but ``k``); this follows the notebook's text.
    """
    n = values.shape[0]
    spectrum = torch.fft.fft2(values.double(), dim=(0, 1))
    keep = torch.zeros(n, dtype=torch.bool)
    keep[[0, k % n, (-k) % n]] = True
    spectrum[~keep] = 0
    spectrum[:, ~keep] = 0
    return torch.fft.ifft2(spectrum, dim=(0, 1)).real.to(values.dtype)


def frequency_output(post: np.ndarray, weights: np.ndarray, bias: np.ndarray | None) -> np.ndarray:
    """Some neurons mapped to the next representation (seed ``004``: one frequency's neurons
    through ``W_out`` plus ``b_out`` into the residual stream): ``post`` ``(n, n, neurons)``,
    ``weights`` ``(neurons, width)``, ``bias`` ``(width,)`` → ``(width, n, n)``."""
    out = np.einsum("abu,uw->wab", post, weights)
    return out if bias is None else out + bias[:, None, None]


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


def readout_onto_own_frequency(
    readout: torch.Tensor, fb: FourierBasis, frequencies: list[int]
) -> dict[str, list[float]]:
    """Each neuron's readout weight onto the cos and sin output directions of its own frequency.

    ``readout``: ``(units, n)`` neurons → logits; ``frequencies``: each unit's frequency (0 for
    none). Returns ``{"readout_cos": [...], "readout_sin": [...]}`` (NaN where undefined).
    """
    out: dict[str, list[float]] = {"readout_cos": [], "readout_sin": []}
    readout = readout.double()
    for neuron, k in enumerate(frequencies):
        waves = wave_rows(fb, k) if k > 0 else None
        for part, row in zip(("cos", "sin"), waves or (None, None), strict=True):
            value = float("nan") if row is None else float(readout[neuron] @ fb.basis64[row])
            out[f"readout_{part}"].append(value)
    return out


def busiest_key_frequency(phases: pd.DataFrame, key_freqs: list[int]) -> int | None:
    """The key frequency with the most neurons that have a phase (ties: the lowest), or
    ``None``. ``phases``: ``neuron_phases.parquet``."""
    known = phases[phases["phase"].notna() & phases["frequency"].isin(key_freqs)]
    if not len(known):
        return None
    return int(known["frequency"].value_counts().sort_index().idxmax())


def largest_variance(values: np.ndarray, count: int) -> np.ndarray:
    """Indices of the ``count`` units of largest variance of ``values`` ``(…, units)``,
    largest first (ties by index)."""
    variance = values.reshape(-1, values.shape[-1]).var(axis=0)
    return np.argsort(-variance, kind="stable")[:count]
