"""Progress measures of grokking at each saved checkpoint, as the grokking paper defines them
("Progress measures for grokking via mechanistic interpretability", and its code).

Each measure is a function of one checkpoint's model over every pair ``(a, b)``, with the key
irreps (for ``C_n``: the key frequencies) fixed from the final checkpoint:

- **restricted loss**: the final logits (the answer classes only) keep just their components
  along the key irreps' ρ(ab) directions (``cos w(a+b)``, ``sin w(a+b)`` for each key
  frequency ``w``), plus the mean over pairs of what was removed; the loss over all pairs,
  and on each split. A model that computes with the key irreps alone has a low one.
- **excluded loss**: the logits with exactly those components removed (no mean correction),
  on the training pairs; for all key irreps at once and for each alone
  (``excluded_loss <irrep>``). It rises as the model comes to rely on them.
- the same two at the neurons (``neuron_restricted_loss`` on the test pairs,
  ``neuron_excluded_loss`` on the training pairs): the hidden layer restricted to, or without,
  those directions, mapped through the rest of the model (:mod:`grokscope.ablations`);
- **sum of squared weights** over every parameter;
- **Gini coefficients** of the norms of the Fourier components of ``W_E`` (the input
  embeddings, every basis function of the group) and of ``W_L``, the map from the neurons to
  the logits (along the output's basis functions), which rise as the weights become sparse in
  the Fourier basis; and ours, of the embedding's norm per irrep (``gini_embedding_irreps``);
- the fraction of clean neurons, and each irrep's share of the embedding norm
  (``share <irrep>`` columns, for :mod:`grokscope.universality`).

The phases these measures mark are found in :mod:`grokscope.phases`.
"""

from __future__ import annotations

import pandas as pd
import torch

from grokscope.ablations import (
    NeuronMap,
    exclude,
    logit_transform,
    product_basis,
    restrict,
)
from grokscope.curves import SHARE_PREFIX
from grokscope.fourier import basis_norms, irrep_norms
from grokscope.hooks import HookedModule
from grokscope.metrics import pair_losses, split_loss, split_losses
from grokscope.neurons import cluster_neurons, irrep_fractions
from grokscope.representations import FourierBasis, Irrep


def gini(values: torch.Tensor) -> float:
    """Gini coefficient of non-negative ``values`` (0: all equal; → 1: one carries all)."""
    x = values.double().sort().values
    n = len(x)
    ranks = torch.arange(1, n + 1, dtype=torch.float64)
    return float(2 * (ranks * x).sum() / (n * x.sum()) - (n + 1) / n)


def fourier_component_norms(matrix: torch.Tensor, fb: FourierBasis) -> torch.Tensor:
    """Norm of each Fourier component of ``matrix`` ``(order, width)`` (one row per group
    element): ``(order,)``, entry ``i`` the norm of ``basis[i] @ matrix``."""
    return (fb.basis64 @ matrix.double()).norm(dim=1)


def embedding_irrep_norms(model: HookedModule, fb: FourierBasis) -> pd.Series:
    """Squared norm of the input embeddings (every ``W_E*`` together) per non-trivial irrep."""
    norms = irrep_norms(basis_norms(model.embedding_matrices(), fb), fb)
    embeds = norms[norms["matrix"].str.startswith("W_E") & (norms["irrep_index"] != 0)]
    return embeds.groupby("irrep", sort=False)["norm"].sum()


def logit_losses(
    logits: torch.Tensor,
    fb: FourierBasis,
    keys: list[Irrep],
    labels: torch.Tensor,
    is_train: torch.Tensor,
) -> dict[str, float]:
    """The logit-level restricted and excluded losses of all-pairs ``logits`` ``(order²,
    order)`` for the key irreps ``keys`` (see the module docstring)."""
    directions = product_basis(fb, keys)  # (k, order²)
    restricted = logit_transform(logits, lambda v: restrict(v, directions))
    excluded = logit_transform(logits, lambda v: exclude(v, directions))
    per_pair = pair_losses(restricted, labels)  # (order²,)
    out = {
        "restricted_loss": per_pair.mean().item(),
        "restricted_loss_train": per_pair[is_train].mean().item(),
        "restricted_loss_test": per_pair[~is_train].mean().item(),
        "excluded_loss": split_loss(excluded, labels, is_train),
    }
    for key in keys if len(keys) > 1 else []:
        alone = product_basis(fb, [key])
        without = logit_transform(logits, lambda v, d=alone: exclude(v, d))
        out[f"excluded_loss {key.label}"] = split_loss(without, labels, is_train)
    return out


def measures(
    model: HookedModule,
    fb: FourierBasis,
    pairs: torch.Tensor,
    labels: torch.Tensor,
    is_train: torch.Tensor,
    keys: list[Irrep],
    clean_threshold: float,
) -> dict[str, float]:
    """Every progress measure of one checkpoint's ``model``.

    Args:
        pairs, labels, is_train: every pair ``(order², 2)``, its label and split ``(order²,)``.
        keys: the key irreps (from the final checkpoint).
        clean_threshold: fraction of variance that makes a neuron clean.
    """
    neuron_map = NeuronMap.of(model, pairs)
    neurons, logits = (
        neuron_map.neurons,
        neuron_map.logits,
    )  # (order, order, units), (order², order)
    directions = product_basis(fb, keys)
    neuron_restricted = neuron_map.transformed(lambda v: restrict(v, directions))
    neuron_excluded = neuron_map.transformed(lambda v: exclude(v, directions))
    per_irrep = embedding_irrep_norms(model, fb).sort_index()
    embeds = [m for name, m in model.embedding_matrices().items() if name.startswith("W_E")]
    w_e = torch.cat(embeds, dim=1)  # (order, width of every input embedding)
    clean = cluster_neurons(irrep_fractions(neurons, fb), fb, clean_threshold)["clean"].mean()
    shares = per_irrep / per_irrep.sum()
    return {
        **split_losses(logits, labels, is_train),
        **logit_losses(logits, fb, keys, labels, is_train),
        "neuron_restricted_loss": split_loss(neuron_restricted, labels, ~is_train),
        "neuron_excluded_loss": split_loss(neuron_excluded, labels, is_train),
        "sum_squared_weights": float(
            sum(p.detach().double().pow(2).sum() for p in model.parameters())
        ),
        "gini_W_E": gini(fourier_component_norms(w_e, fb)),
        "gini_W_L": gini(fourier_component_norms(model.neuron_readout().T, fb)),
        "gini_embedding_irreps": gini(torch.tensor(per_irrep.to_numpy())),
        "clean_fraction": float(clean),
        **{f"{SHARE_PREFIX}{label}": float(v) for label, v in shares.items()},
    }
