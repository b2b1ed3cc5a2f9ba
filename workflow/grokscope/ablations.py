"""Ablations: change the hidden neurons' functions of (a, b), map them through the rest of the
network, and measure the loss.

All ablations act on the model's ``neuron_hook`` (post-ReLU neurons; the products of the
bilinear net) as functions over all pairs, then replace that activation in a forward pass, so
"the rest of the network" is exactly the model's own code (residual stream, W_out, W_U, …).

- *restricted*: keep each neuron's mean plus its components along the key irreps' ρ(ab)
  directions (for a cyclic group: cos(w(a+b)), sin(w(a+b)) of the key frequencies);
- *excluded*: remove exactly those components;
- *own block* (seed 000's validation): keep only the Fourier block of a neuron's own irrep;
- *frequencies* (seed 004, cyclic groups): :mod:`grokscope.frequency_ablations`.
The same projections applied to the logits (functions of (a, b) for each c) give the
logit-level versions. :func:`prefix_search` measures restricted and excluded loss for each
top-``m`` of a ranking of irreps (the ablation-confirmed key rule, :mod:`grokscope.key_rules`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import pandas as pd
import torch

from grokscope.data import all_pairs
from grokscope.groups import Group
from grokscope.hooks import HookedModule
from grokscope.metrics import split_losses
from grokscope.neurons import block_masks
from grokscope.representations import FourierBasis, Irrep, product_directions

Transform = Callable[[torch.Tensor], torch.Tensor]  # (order, order, units) → same shape


def product_basis(fb: FourierBasis, irreps: list[Irrep]) -> torch.Tensor:
    """Orthonormal ρ(ab) directions of ``irreps`` as ``(k, order²)`` float64 rows."""
    if not irreps:
        return torch.zeros(0, fb.group.order**2, dtype=torch.float64)
    dirs = torch.cat([product_directions(fb, irrep).double() for irrep in irreps])
    return dirs.reshape(len(dirs), -1)


def restrict(values: torch.Tensor, directions: torch.Tensor) -> torch.Tensor:
    """Keep each unit's mean plus its components along ``directions`` (orthonormal rows,
    mean-zero): ``(order, order, units)`` → same shape."""
    flat = values.double().reshape(-1, values.shape[-1])  # (order², units)
    mean = flat.mean(dim=0, keepdim=True)
    kept = directions.T @ (directions @ (flat - mean))
    return (mean + kept).reshape(values.shape).to(values.dtype)


def exclude(values: torch.Tensor, directions: torch.Tensor) -> torch.Tensor:
    """Remove each unit's components along ``directions``: same shape as ``values``."""
    flat = values.double().reshape(-1, values.shape[-1])
    removed = flat - directions.T @ (directions @ flat)
    return removed.reshape(values.shape).to(values.dtype)


def keep_block(values: torch.Tensor, fb: FourierBasis, irrep_index: int) -> torch.Tensor:
    """Keep only the 2-D Fourier block of one irrep (plus the constant): same shape."""
    mask = block_masks(fb)[irrep_index].clone()
    mask[0, 0] = True  # keep the mean
    basis = fb.basis64
    coef = torch.einsum("ia,abz,jb->ijz", basis, values.double(), basis)
    coef = coef * mask[:, :, None]
    return torch.einsum("ia,ijz,jb->abz", basis, coef, basis).to(values.dtype)


def neuron_values(model: HookedModule, pairs: torch.Tensor) -> torch.Tensor:
    """The neuron activation over all pairs as ``(order, order, units)`` (answer position)."""
    with torch.no_grad():
        values = model.neurons_and_logits(pairs)[0]  # (order², units)
    order = int(round(len(pairs) ** 0.5))
    return values.reshape(order, order, -1)


def logits_with_neurons(
    model: HookedModule, pairs: torch.Tensor, neurons: torch.Tensor
) -> torch.Tensor:
    """Logits ``(order², order)`` with the neuron activation replaced by ``neurons``
    ``(order, order, units)``."""
    flat = neurons.reshape(len(pairs), -1)

    def replace(x: torch.Tensor, _name: str) -> torch.Tensor:
        return model.replace_at_answer(x, flat)

    with torch.no_grad():
        return model.run_with_hooks(pairs, [(model.neuron_hook, replace)])


@dataclass
class NeuronMap:
    """A model's neuron activation over all pairs and how it reaches the logits.

    The logits of every model here are affine in its neuron activation at the answer
    (:meth:`~grokscope.hooks.HookedModule.neuron_readout`): ``logits = neurons @ readout +
    (terms that do not depend on them)``. So one forward pass serves every ablation of the
    neurons, with the result of running the model with the activation replaced
    (:func:`logits_with_neurons`, tested) up to float rounding. And because every ablation
    here is linear and acts on each unit's function of ``(a, b)`` alone, it commutes with the
    readout: :meth:`transformed` applies it to the neurons' contribution to the logits,
    ``order`` columns instead of ``units``.
    """

    neurons: torch.Tensor  # (order, order, units)
    logits: torch.Tensor  # (order², order) float64
    readout: torch.Tensor  # (units, order) float64

    @classmethod
    def of(cls, model: HookedModule, pairs: torch.Tensor) -> NeuronMap:
        with torch.no_grad():
            neurons, logits = model.neurons_and_logits(pairs)  # (order², units), (order², order)
        order = int(round(len(pairs) ** 0.5))
        neurons = neurons.reshape(order, order, -1)
        return cls(neurons, logits.double(), model.neuron_readout().double())

    def with_neurons(self, new: torch.Tensor) -> torch.Tensor:
        """Logits ``(order², order)`` with the activation replaced by ``new`` (its shape)."""
        delta = (new.double() - self.neurons.double()).reshape(len(self.logits), -1)
        return self.logits + delta @ self.readout

    def transformed(self, transform: Transform, units: torch.Tensor | None = None) -> torch.Tensor:
        """Logits with ``transform`` (linear, per unit, e.g. :func:`restrict`) applied to the
        neurons (only to ``units``, an index tensor, when given)."""
        part = self.contribution if units is None else self._contribution(units)
        change = transform(part) - part  # (order, order, classes)
        return self.logits + change.reshape(len(self.logits), -1)

    @cached_property
    def contribution(self) -> torch.Tensor:
        """Every neuron's contribution to the logits, ``(order, order, classes)`` float64
        (computed once: each transform of all the neurons starts from it)."""
        return self._contribution(None)

    def _contribution(self, units: torch.Tensor | None) -> torch.Tensor:
        neurons, readout = self.neurons, self.readout
        if units is not None:
            neurons, readout = neurons[:, :, units], readout[units]
        order = neurons.shape[0]
        flat = neurons.reshape(order * order, -1).double()  # (order², units)
        return (flat @ readout).reshape(order, order, -1)


def logit_transform(logits: torch.Tensor, transform: Transform) -> torch.Tensor:
    """Apply a transform of functions of (a, b) to logits ``(order², order)`` (units = c)."""
    order = logits.shape[1]
    return transform(logits.reshape(order, order, order)).reshape(order * order, order)


@dataclass
class AllPairs:
    """A model evaluated over every pair: what each ablation row needs."""

    model: HookedModule
    pairs: torch.Tensor  # (order², 2) row-major
    labels: torch.Tensor  # (order²,)
    is_train: torch.Tensor  # (order²,) bool

    def __post_init__(self) -> None:
        self.map = NeuronMap.of(self.model, self.pairs)
        self.neurons = self.map.neurons

    @classmethod
    def of(cls, model: HookedModule, group: Group, dataset: pd.DataFrame) -> AllPairs:
        """Every pair of ``group`` in row-major order, labelled and split as ``dataset``
        (``data/pairs.parquet``: columns ``c`` and ``split``)."""
        return cls(
            model=model,
            pairs=all_pairs(group)[:, :2],
            labels=torch.tensor(dataset["c"].to_numpy(), dtype=torch.int64),
            is_train=torch.tensor((dataset["split"] == "train").to_numpy()),
        )

    def row(self, ablation: str, target: str, logits: torch.Tensor) -> dict[str, Any]:
        """One ablation-table row: losses and accuracies of ``logits`` on both splits."""
        return {
            "ablation": ablation,
            "target": target,
            **split_losses(logits, self.labels, self.is_train),
        }

    def with_neurons(self, neurons: torch.Tensor) -> torch.Tensor:
        """Logits with the neuron activation replaced by ``neurons`` (order, order, units)."""
        return self.map.with_neurons(neurons)


def key_irrep_rows(
    s: AllPairs, fb: FourierBasis, neurons: torch.Tensor, keys: list[Irrep]
) -> list[dict[str, Any]]:
    """Baseline, restricted and excluded losses (neurons and logits; all key irreps together
    and each alone) as rows ``ablation, target, train_loss, test_loss, train_acc, test_acc``."""
    baseline = s.with_neurons(neurons)
    rows = [s.row("baseline", "", baseline)]
    for target, irreps in [("all key", keys)] + [(k.label, [k]) for k in keys]:
        dirs = product_basis(fb, irreps)
        for name, transform in (("restricted", restrict), ("excluded", exclude)):
            rows.append(s.row(name, target, s.with_neurons(transform(neurons, dirs))))
            on_logits = logit_transform(baseline, lambda v, t=transform, d=dirs: t(v, d))
            rows.append(s.row(f"logits {name}", target, on_logits))
    return rows


def key_set_losses(
    s: AllPairs, fb: FourierBasis, neurons: torch.Tensor, irreps: list[Irrep]
) -> dict[str, float]:
    """The two losses that confirm a key set: ``restricted_loss`` (test loss with the neurons
    restricted to the irreps' ρ(ab) directions plus their mean) and ``excluded_loss`` (train
    loss with those directions removed)."""
    dirs = product_basis(fb, irreps)
    return {
        "restricted_loss": s.row("", "", s.with_neurons(restrict(neurons, dirs)))["test_loss"],
        "excluded_loss": s.row("", "", s.with_neurons(exclude(neurons, dirs)))["train_loss"],
    }


def prefix_search(
    s: AllPairs,
    fb: FourierBasis,
    neurons: torch.Tensor,
    ranked: list[Irrep],
    stop: Callable[[int, dict[str, float]], bool],
) -> pd.DataFrame:
    """Restricted and excluded loss of each top-``m`` of ``ranked`` (``m = 1, 2, …``) until
    ``stop(m, losses)`` is true or the ranking ends: rows ``m, irrep, restricted_loss,
    excluded_loss``.

    One pass: the components of each irrep are added to a running sum, so each ``m`` costs
    two forward passes and one irrep's projection.
    """
    flat = neurons.double().reshape(-1, neurons.shape[-1])  # (order², units)
    mean = flat.mean(dim=0, keepdim=True)
    kept = torch.zeros_like(flat)  # Σ over the top m of the components along their ρ(ab)
    rows = []
    for m, irrep in enumerate(ranked, start=1):
        dirs = product_basis(fb, [irrep])  # (rows, order²), mean-zero, orthonormal
        kept += dirs.T @ (dirs @ flat)
        restricted = (mean + kept).reshape(neurons.shape).to(neurons.dtype)
        excluded = (flat - kept).reshape(neurons.shape).to(neurons.dtype)
        losses = {
            "restricted_loss": s.row("", "", s.with_neurons(restricted))["test_loss"],
            "excluded_loss": s.row("", "", s.with_neurons(excluded))["train_loss"],
        }
        rows.append({"m": m, "irrep": irrep.label, **losses})
        if stop(m, losses):
            break
    return pd.DataFrame(rows, columns=["m", "irrep", "restricted_loss", "excluded_loss"])


def own_block_rows(
    s: AllPairs, fb: FourierBasis, neurons: torch.Tensor, clusters: pd.DataFrame
) -> list[dict[str, Any]]:
    """Seed 000's validation: each cluster's neurons keep only their own irrep's block (one
    row per cluster, then all clusters at once). ``clusters``: ``neuron, irrep, irrep_index``
    (``-1``: dead)."""
    rows = []
    filtered_all = neurons.clone()
    alive = clusters[clusters["irrep_index"] >= 0]
    for label, members in alive.groupby("irrep"):  # by label, as the table has always been
        ids = torch.tensor(members["neuron"].to_numpy())
        own = keep_block(neurons[:, :, ids], fb, int(members["irrep_index"].iloc[0]))
        one = neurons.clone()
        one[:, :, ids] = own
        filtered_all[:, :, ids] = own
        rows.append(s.row("cluster own block", label, s.with_neurons(one)))
    rows.append(s.row("cluster own block", "all clusters", s.with_neurons(filtered_all)))
    return rows


# ablations.json: (ablation, target) rows whose losses become headline numbers.
HEADLINE = (
    ("baseline", ""),
    ("restricted", "all key"),
    ("excluded", "all key"),
    ("logits restricted", "all key"),
    ("logits excluded", "all key"),
    ("cluster own block", "all clusters"),
)


def headline_losses(table: pd.DataFrame) -> dict[str, float]:
    """``<ablation>_{train,test}_loss`` for each :data:`HEADLINE` row of an ablation table."""
    out = {}
    for ablation, target in HEADLINE:
        hit = table[(table["ablation"] == ablation) & (table["target"] == target)].iloc[0]
        for column in ("train_loss", "test_loss"):
            out[f"{ablation.replace(' ', '_')}_{column}"] = float(hit[column])
    return out
