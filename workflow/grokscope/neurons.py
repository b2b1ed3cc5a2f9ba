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

import math

import pandas as pd
import torch

from grokscope.representations import FourierBasis


def block_masks(fb: FourierBasis) -> torch.Tensor:
    """``(n_irreps, order, order)`` bool: basis pairs in each irrep's block (its rows and the
    constant row, the constant-constant pair excluded). Entry 0, the trivial irrep's, is
    empty: its one row is the constant, and the constant-constant pair is the mean."""
    trivial = fb.irrep_of == 0  # (order,)
    masks = []
    for irrep in fb.irreps:
        rows = trivial | (fb.irrep_of == irrep.index)
        mask = rows[:, None] & rows[None, :]
        mask[trivial[:, None] & trivial[None, :]] = False
        masks.append(mask)
    return torch.stack(masks)


def block_partners(fb: FourierBasis) -> torch.Tensor:
    """``(order, width)`` int64: for each non-constant basis row ``i``, the rows ``j`` whose
    pairs ``(i, j)`` are in the block of ``i``'s irrep (:func:`block_masks`): the constant row
    (row 0) and the rows of ``i``'s irrep; padded with -1 to the widest block. Row 0's own
    entry is all -1: its pairs ``(0, j)`` belong to ``j``'s irrep, not one block.

    The blocks are disjoint and cover every pair but ``(0, 0)`` and the pairs of two different
    non-trivial irreps, so each block's pairs are ``{(i, j): i ≠ 0, j ∈ partners(i)} ∪ {(0, j):
    j ∈ rows(irrep)}``.
    """
    if not (fb.irrep_of[0] == 0 and (fb.irrep_of == 0).sum() == 1):
        raise ValueError("the basis must start with the constant row, the trivial irrep's only")
    width = 1 + max(int((fb.irrep_of == irrep.index).sum()) for irrep in fb.irreps[1:])
    partners = torch.full((len(fb.irrep_of), width), -1, dtype=torch.int64)
    for irrep in fb.irreps[1:]:
        rows = (fb.irrep_of == irrep.index).nonzero()[:, 0]  # (d²,)
        partners[rows, : 1 + len(rows)] = torch.cat([rows.new_zeros(1), rows])
    return partners


def block_power(values: torch.Tensor, fb: FourierBasis) -> tuple[torch.Tensor, torch.Tensor]:
    """Each unit's centred 2-D Fourier power in each irrep's block, and its total.

    ``values``: ``(order, order, units)`` over pairs ``(a, b)``. Returns ``(n_irreps, units)``
    float64 (entry 0, the trivial irrep's block, holds no pairs: 0) and ``(units,)``. The same
    as summing ``project_2d(centred(values), fb).pow(2)`` under each mask of
    :func:`block_masks` (tested), without the full ``(order, order, units)`` coefficients:
    the values are projected along ``a`` only (one ``(order × order)`` matmul), and along
    ``b`` only onto each row's block partners (:func:`block_partners`: a few rows, not
    ``order``). The total is the centred variance, over every pair (Parseval: the basis is
    orthonormal).
    """
    order = fb.group.order
    x = values.double().reshape(order, order, -1)  # (a, b, units)
    basis = fb.basis64.to(x.device)  # (order, order)
    y = (basis @ x.reshape(order, -1)).view(order, order, -1)  # (i, b, units): along a
    # Centring: every non-constant row sums to 0 over the elements, so subtracting the mean
    # over pairs changes only the constant row's projection, by sqrt(order) · mean.
    y[0] -= math.sqrt(order) * x.mean(dim=(0, 1))
    total = torch.linalg.vector_norm(y.reshape(order * order, -1), dim=0).square()  # (units,)
    partners = block_partners(fb)[1:].to(x.device)  # (order - 1, width): rows i ≠ 0
    # Rows of the basis to project along b onto, zero where a row has fewer partners.
    onto = basis[partners.clamp(min=0)] * (partners >= 0)[..., None]  # (order - 1, width, order)
    power = torch.bmm(onto, y[1:]).square().sum(dim=1)  # (i ≠ 0, units): pairs (i, partners(i))
    power += (basis[1:] @ y[0]).square()  # (j ≠ 0, units): pairs (0, j), in j's block
    out = power.new_zeros(len(fb.irreps), power.shape[1])
    return out.index_add_(0, fb.irrep_of[1:].to(x.device), power), total


def irrep_fractions(values: torch.Tensor, fb: FourierBasis) -> torch.Tensor:
    """Fraction of each unit's centred variance in each irrep's block: ``(units, n_irreps)``.

    ``values``: ``(order, order, units)`` over pairs ``(a, b)``. Units with no variance (dead
    neurons) get NaN.
    """
    in_block, total = block_power(values, fb)  # (n_irreps, units), (units,)
    fractions = in_block.T / total[:, None]
    fractions[total <= 1e-12 * total.max().clamp(min=1e-30)] = float("nan")
    return fractions


def variance_shares(values: torch.Tensor, fb: FourierBasis) -> torch.Tensor:
    """Share of all units' summed centred variance in each irrep's block: ``(n_irreps,)``.

    Entry 0 (the trivial irrep's linear terms) is excluded from the total and set to NaN.
    """
    in_block = block_power(values, fb)[0].sum(dim=1)  # (n_irreps,)
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
