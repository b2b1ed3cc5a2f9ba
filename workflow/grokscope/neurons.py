"""Neuron clustering: which irrep each hidden neuron computes with, and how cleanly.

A neuron's activation over all pairs is a function ``f(a, b)``. Centred and written in the
tensor-product Fourier basis, its squared coefficients split its variance across basis pairs
``(i, j)``. The block of irrep ``r`` is every pair with ``i, j ∈ trivial ∪ rows(r)`` (the
notebook's 3×3 block ``1, cos wx, sin wx, …, sin wx sin wy`` for a cyclic frequency ``w``);
its share of the variance is the neuron's *fraction explained* by ``r``. Each neuron is
assigned the non-trivial irrep with the largest fraction, and is *clean* when that fraction
reaches the threshold (0.85 in the literature).
"""

from __future__ import annotations

import pandas as pd
import torch

from grokscope.fourier import centred
from grokscope.representations import FourierBasis, project_2d


def block_masks(fb: FourierBasis) -> torch.Tensor:
    """``(n_irreps, order, order)`` bool: basis pairs in each irrep's block (trivial included,
    the constant-constant pair excluded). Row 0 (the trivial irrep) covers the linear terms
    ``(const, i)`` and ``(i, const)`` only."""
    trivial = fb.irrep_of == 0  # (order,)
    masks = []
    for irrep in fb.irreps:
        rows = trivial | (fb.irrep_of == irrep.index)
        mask = rows[:, None] & rows[None, :]
        mask[trivial[:, None] & trivial[None, :]] = False
        masks.append(mask)
    return torch.stack(masks)


def block_index(fb: FourierBasis) -> torch.Tensor:
    """``(order²,)`` int64: the irrep whose block (:func:`block_masks`) holds each basis pair
    ``(i, j)``, row-major; -1 for pairs in no block (two different non-trivial irreps, or the
    constant-constant pair).

    The blocks are disjoint: a pair with a row of a non-trivial irrep ``r`` can only be in
    ``r``'s block, and a pair of a trivial row ``i`` and a non-trivial ``j`` only in ``j``'s.
    So summing a quantity over each block is one pass over the pairs, not one per irrep.
    """
    masks = block_masks(fb).reshape(len(fb.irreps), -1)  # (n_irreps, order²)
    return masks.int().argmax(dim=0).masked_fill(~masks.any(dim=0), -1)


def block_sums(values: torch.Tensor, fb: FourierBasis) -> torch.Tensor:
    """Sum of ``values`` ``(order, order, ...)`` over each irrep's block: ``(n_irreps, ...)``."""
    index = block_index(fb).to(values.device)
    keep = index >= 0
    flat = values.reshape(len(index), *values.shape[2:])[keep]  # (pairs in a block, ...)
    out = values.new_zeros(len(fb.irreps), *values.shape[2:])
    return out.index_add_(0, index[keep], flat)


def irrep_fractions(values: torch.Tensor, fb: FourierBasis) -> torch.Tensor:
    """Fraction of each unit's centred variance in each irrep's block: ``(units, n_irreps)``.

    ``values``: ``(order, order, units)`` over pairs ``(a, b)``. Units with no variance (dead
    neurons) get NaN.
    """
    power = project_2d(centred(values.double()), fb).pow(2)  # (order, order, units)
    total = power.sum(dim=(0, 1))  # (units,)
    in_block = block_sums(power, fb).T  # (units, n_irreps)
    fractions = in_block / total[:, None]
    fractions[total <= 1e-12 * total.max().clamp(min=1e-30)] = float("nan")
    return fractions


def variance_shares(values: torch.Tensor, fb: FourierBasis) -> torch.Tensor:
    """Share of all units' summed centred variance in each irrep's block: ``(n_irreps,)``.

    Entry 0 (the trivial irrep's linear terms) is excluded from the total and set to NaN.
    """
    power = project_2d(centred(values.double()), fb).pow(2).sum(dim=2)  # (order, order)
    in_block = block_sums(power, fb)  # (n_irreps,)
    shares = in_block / in_block[1:].sum()
    shares[0] = float("nan")
    return shares


def cluster_neurons(fractions: torch.Tensor, fb: FourierBasis, threshold: float) -> pd.DataFrame:
    """One row per neuron: ``neuron, irrep, irrep_index, fraction, clean`` (irrep = the best
    non-trivial one).

    Dead neurons have irrep ``"dead"``, irrep_index ``-1`` and fraction NaN.
    """
    nontrivial = fractions[:, 1:]
    best = nontrivial.nan_to_num(-1.0).argmax(dim=1) + 1  # (units,)
    best_fraction = fractions.gather(1, best[:, None])[:, 0]
    dead = best_fraction.isnan()
    labels = [fb.irreps[i].label for i in best.tolist()]
    return pd.DataFrame(
        {
            "neuron": range(len(best)),
            "irrep": ["dead" if d else lab for d, lab in zip(dead.tolist(), labels, strict=True)],
            "irrep_index": best.masked_fill(dead, -1).numpy(),
            "fraction": best_fraction.numpy(),
            "clean": (best_fraction >= threshold).numpy() & ~dead.numpy(),
        }
    )


def cluster_sizes(clusters: pd.DataFrame) -> pd.DataFrame:
    """Per irrep: ``neurons`` assigned and ``clean`` neurons, largest first."""
    out = clusters.groupby("irrep", as_index=False).agg(
        neurons=("neuron", "size"), clean=("clean", "sum")
    )
    return out.sort_values(["neurons", "irrep"], ascending=[False, True], ignore_index=True)


def readout_by_cluster(
    readout: torch.Tensor, clusters: pd.DataFrame, fb: FourierBasis
) -> pd.DataFrame:
    """How strongly each cluster writes to each output basis function.

    ``readout``: ``(units, order)`` map from the neurons to the logits
    (:meth:`~grokscope.hooks.HookedModule.neuron_readout`). Returns one row per (live
    cluster, basis function): ``irrep, basis_index, basis_label, norm`` with ``norm`` the
    squared norm of the cluster's readout rows along that basis function.
    """
    frames = []
    alive = clusters[clusters["irrep"] != "dead"]
    for label, members in alive.groupby("irrep")["neuron"]:
        rows = readout.double()[torch.tensor(members.to_numpy())]  # (members, order)
        norms = (rows @ fb.basis64.T).pow(2).sum(dim=0)  # (order,)
        frames.append(
            pd.DataFrame(
                {
                    "irrep": label,
                    "basis_index": range(len(norms)),
                    "basis_label": fb.labels,
                    "norm": norms.numpy(),
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def select_neurons(clusters: pd.DataFrame, sizes: pd.DataFrame, count: int) -> list[int]:
    """``count`` neurons to show one by one, deterministically: the first clean neuron of each
    cluster, largest clusters first; then, if needed, the remaining neurons by descending
    fraction explained (ties by index).

    ``clusters``: ``neuron_clusters.parquet`` (``neuron, irrep, fraction, clean``);
    ``sizes``: ``cluster_sizes.parquet`` (``irrep, neurons, clean``, largest first).
    """
    alive = clusters[clusters["irrep"] != "dead"].sort_values("neuron")
    chosen: list[int] = []
    for irrep in sizes.loc[sizes["irrep"] != "dead", "irrep"]:
        clean = alive[(alive["irrep"] == irrep) & alive["clean"]]
        if len(clean) and len(chosen) < count:
            chosen.append(int(clean["neuron"].iloc[0]))
    rest = clusters[~clusters["neuron"].isin(chosen)]
    rest = rest.sort_values(["fraction", "neuron"], ascending=[False, True], na_position="last")
    chosen += [int(n) for n in rest["neuron"].iloc[: max(0, count - len(chosen))]]
    return chosen
