"""Progress measures of grokking at each saved checkpoint, and the phase boundaries.

Measures (one row per checkpoint, :func:`measures`): losses and accuracies on both splits;
the *restricted loss* (test loss with the neurons restricted to the key irreps' ρ(ab)
directions plus their mean) and the same over all pairs; the *excluded loss* (train loss with
those directions removed from the neurons); the sum of squared weights; the Gini coefficient
of the embedding's norm across irreps; the fraction of clean neurons; and each irrep's share
of the embedding norm (``share <irrep>`` columns).

Phase boundaries (:func:`phase_boundaries`; thresholds in params/analysis.yaml: phases):

- memorisation ends at the first evaluated epoch with train accuracy ≥ ``memorised_train_acc``;
- circuit formation runs from there to the first later epoch with test accuracy
  ≥ ``cleanup_test_acc`` (the test loss is then falling steeply);
- clean-up runs from there to the first epoch with test accuracy ≥ ``grokked_test_acc``.

These use the training run's evaluations (``train/metrics.csv``) and
:func:`grokscope.metrics.first_epoch`, the same definition as the run's final metrics, so the
epochs agree with ``train/final.json``. Two more markers make "excluded loss rises before test
loss falls" checkable: ``test_fall_epoch`` (first evaluation after memorisation where the test
loss is at most 1 / ``rise_factor`` of its value there) and ``excluded_rise_epoch`` (first
checkpoint after memorisation where the excluded loss is at least ``rise_factor`` × its value
at the first checkpoint of that phase).
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import torch

from grokscope.ablations import exclude, logits_with_neurons, neuron_values, restrict
from grokscope.fourier import basis_norms, irrep_norms
from grokscope.hooks import HookedModule
from grokscope.metrics import SHARE_PREFIX, first_epoch, loss_and_accuracy, split_losses
from grokscope.neurons import cluster_neurons, irrep_fractions
from grokscope.representations import FourierBasis


def gini(values: torch.Tensor) -> float:
    """Gini coefficient of non-negative ``values`` (0: all equal; → 1: one carries all)."""
    x = values.double().sort().values
    n = len(x)
    ranks = torch.arange(1, n + 1, dtype=torch.float64)
    return float(2 * (ranks * x).sum() / (n * x.sum()) - (n + 1) / n)


def embedding_irrep_norms(model: HookedModule, fb: FourierBasis) -> pd.Series:
    """Squared norm of the input embeddings (every ``W_E*`` together) per non-trivial irrep."""
    norms = irrep_norms(basis_norms(model.embedding_matrices(), fb), fb)
    embeds = norms[norms["matrix"].str.startswith("W_E") & (norms["irrep_index"] != 0)]
    return embeds.groupby("irrep", sort=False)["norm"].sum()


def measures(
    model: HookedModule,
    fb: FourierBasis,
    pairs: torch.Tensor,
    labels: torch.Tensor,
    is_train: torch.Tensor,
    key_directions: torch.Tensor,
    clean_threshold: float,
) -> dict[str, float]:
    """Every progress measure of one checkpoint's ``model``.

    Args:
        pairs, labels, is_train: every pair ``(order², 2)``, its label and split ``(order²,)``.
        key_directions: the key irreps' ρ(ab) directions ``(k, order²)``
            (:func:`grokscope.ablations.product_basis`).
        clean_threshold: fraction of variance that makes a neuron clean.
    """
    neurons = neuron_values(model, pairs)  # (order, order, units)
    logits = logits_with_neurons(model, pairs, neurons)
    restricted = logits_with_neurons(model, pairs, restrict(neurons, key_directions))
    excluded = logits_with_neurons(model, pairs, exclude(neurons, key_directions))
    per_irrep = embedding_irrep_norms(model, fb).sort_index()
    clean = cluster_neurons(irrep_fractions(neurons, fb), fb, clean_threshold)["clean"].mean()
    shares = per_irrep / per_irrep.sum()
    return {
        **split_losses(logits, labels, is_train),
        "restricted_loss": split_losses(restricted, labels, is_train)["test_loss"],
        "restricted_loss_all": loss_and_accuracy(restricted, labels)[0],
        "excluded_loss": split_losses(excluded, labels, is_train)["train_loss"],
        "sum_squared_weights": float(sum(p.double().pow(2).sum() for p in model.parameters())),
        "gini_embedding": gini(torch.tensor(per_irrep.to_numpy())),
        "clean_fraction": float(clean),
        **{f"{SHARE_PREFIX}{label}": float(v) for label, v in shares.items()},
    }


def phase_boundaries(
    curves: pd.DataFrame, progress: pd.DataFrame, rule: dict[str, Any]
) -> dict[str, Any]:
    """Boundaries and phases.

    Args:
        curves: the run's evaluations (``epoch, train_acc, test_acc, test_loss``).
        progress: the progress measures (``epoch, excluded_loss``), one row per checkpoint.
        rule: params/analysis.yaml ``phases``.
    """
    curves = curves.sort_values("epoch", ignore_index=True)
    progress = progress.sort_values("epoch", ignore_index=True)

    def first(column: str, threshold: float, after: int = 0) -> int | None:
        rows = curves[curves["epoch"] >= after]
        return first_epoch(rows["epoch"].tolist(), rows[column].tolist(), threshold)

    memorised = first("train_acc", rule["memorised_train_acc"])
    cleanup = None if memorised is None else first("test_acc", rule["cleanup_test_acc"], memorised)
    grokked = first("test_acc", rule["grokked_test_acc"])
    out: dict[str, Any] = {
        "memorised_epoch": memorised,
        "cleanup_start_epoch": cleanup,
        "grokked_epoch": grokked,
        "excluded_rise_epoch": None,
        "test_fall_epoch": None,
    }
    if memorised is not None:
        factor = rule["rise_factor"]
        at = curves.loc[curves["epoch"] == memorised, "test_loss"].iloc[0]
        falls = curves[(curves["epoch"] > memorised) & (curves["test_loss"] <= at / factor)]
        out["test_fall_epoch"] = int(falls["epoch"].iloc[0]) if len(falls) else None
        after = progress[progress["epoch"] >= memorised]
        if len(after):
            start = after["excluded_loss"].iloc[0]
            rises = after[after["excluded_loss"] >= factor * start]
            rises = rises[rises["epoch"] > after["epoch"].iloc[0]]
            out["excluded_rise_epoch"] = int(rises["epoch"].iloc[0]) if len(rises) else None
    ends = [0, memorised, cleanup, grokked]
    names = ["memorisation", "circuit formation", "clean-up"]
    out["phases"] = [
        {"name": name, "start": start, "end": end}
        for name, start, end in zip(names, ends[:-1], ends[1:], strict=True)
        if start is not None and end is not None
    ]
    out["rule"] = dict(rule)
    return out
