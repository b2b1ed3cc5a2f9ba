"""Fourier analysis of weights and activations: norms per basis function and irrep, key irreps,
and 2-D Fourier coefficients of functions of pairs.

Pure functions (tensors in, tables out). "Share" of an irrep is its fraction of the summed
squared norm over the non-trivial irreps; the trivial (constant) irrep carries biases, not
the algorithm.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import torch

from grokscope.representations import FourierBasis, project_2d


def weights_table(matrices: dict[str, torch.Tensor], fb: FourierBasis) -> pd.DataFrame:
    """Each ``(order, width)`` matrix in space and in the Fourier basis, long format:
    ``matrix, dim, domain (space|fourier), index, label, value``."""
    frames = []
    for name, m in matrices.items():
        for domain, values, labels in (
            ("space", m, fb.group.labels),
            ("fourier", fb.basis.to(m.dtype) @ m, fb.labels),
        ):
            order, width = values.shape
            frames.append(
                pd.DataFrame(
                    {
                        "matrix": name,
                        "dim": torch.arange(width).repeat(order).numpy(),
                        "domain": domain,
                        "index": torch.arange(order).repeat_interleave(width).numpy(),
                        "label": [labels[i] for i in range(order) for _ in range(width)],
                        "value": values.reshape(-1).double().numpy(),
                    }
                )
            )
    return pd.concat(frames, ignore_index=True)


def basis_norms(matrices: dict[str, torch.Tensor], fb: FourierBasis) -> pd.DataFrame:
    """Squared norm of each matrix along each basis function.

    Returns one row per (matrix, basis function): ``matrix, basis_index, basis_label,
    irrep, norm`` where ``norm = ‖basis[i] @ M‖²`` for ``M`` of shape ``(order, width)``.
    """
    frames = []
    for name, m in matrices.items():
        norms = (fb.basis.to(m.dtype) @ m).pow(2).sum(dim=1)  # (order,)
        frames.append(
            pd.DataFrame(
                {
                    "matrix": name,
                    "basis_index": range(len(norms)),
                    "basis_label": fb.labels,
                    "irrep": [fb.irreps[i].label for i in fb.irrep_of.tolist()],
                    "norm": norms.double().numpy(),
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def irrep_norms(norms: pd.DataFrame, fb: FourierBasis) -> pd.DataFrame:
    """Per (matrix, irrep): summed squared ``norm`` and ``share`` of the non-trivial total."""
    order = {irrep.label: irrep.index for irrep in fb.irreps}
    out = norms.groupby(["matrix", "irrep"], sort=False, as_index=False)["norm"].sum()
    out["irrep_index"] = out["irrep"].map(order)
    nontrivial = out["irrep_index"] != 0
    totals = out[nontrivial].groupby("matrix")["norm"].sum()
    out["share"] = out["norm"] / out["matrix"].map(totals)
    out.loc[~nontrivial, "share"] = float("nan")
    return out.sort_values(["matrix", "irrep_index"], ignore_index=True)


def embedding_shares(irreps: pd.DataFrame) -> pd.Series:
    """Share of each non-trivial irrep in the input embeddings together (W_E, or W_E_a + W_E_b)."""
    embeds = irreps[irreps["matrix"].str.startswith("W_E") & (irreps["irrep_index"] != 0)]
    summed = embeds.groupby("irrep", sort=False)["norm"].sum()
    return (summed / summed.sum()).sort_values(ascending=False, kind="stable")


def combined_shares(embedding: pd.Series, neurons: pd.Series) -> pd.Series:
    """Geometric mean of embedding and neuron shares, renormalised, descending.

    An irrep is key only if the network both embeds it and computes with it: an irrep that
    is large in the embedding but absent from the neurons (as frequency 31 in the published
    mod-113 model) scores low.
    """
    both = (embedding * neurons.reindex(embedding.index).fillna(0.0)).pow(0.5)
    return (both / both.sum()).sort_values(ascending=False, kind="stable")


def choose_key_irreps(shares: pd.Series, rule: dict[str, Any]) -> tuple[list[str], str]:
    """Key irreps from shares (descending), by an explicit rule; returns (labels, why).

    Rules (``params/analysis.yaml: key_irreps``):
      ``largest_gap``: the top ``m ≤ max_key`` where ``share[m-1] / share[m]`` is largest,
      among ranks with ``share[m-1] ≥ min_share``;
      ``cumulative``: the fewest top irreps whose shares sum to ``threshold``;
      ``explicit``: exactly ``irreps``.
    """
    values = shares.to_numpy()
    labels = list(shares.index)
    if rule["rule"] == "explicit":
        unknown = sorted(set(rule["irreps"]) - set(labels))
        if unknown:
            raise ValueError(f"key_irreps.irreps: no such irreps {unknown}; have {labels}")
        keys = list(rule["irreps"])
        covered = float(shares[keys].sum())
        return keys, f"explicit list; covers {covered:.1%} of the score"
    if rule["rule"] == "cumulative":
        m = int((values.cumsum() < rule["threshold"]).sum()) + 1
        m = min(m, len(values))
        return labels[:m], (
            f"fewest irreps reaching {rule['threshold']:.0%} of the score: "
            f"{m} irreps cover {values[:m].sum():.1%}"
        )
    # largest_gap: only ranks carrying at least `min_share` may end the key set, so the
    # large ratio between a weak-but-real extra irrep and the noise floor cannot win.
    limit = min(rule["max_key"], len(values) - 1)
    if limit < 1:
        return labels, "only one non-trivial irrep"
    ratios = values[:limit] / values[1 : limit + 1].clip(min=1e-30)
    eligible = values[:limit] >= rule["min_share"]
    eligible[0] = True  # the top irrep is always key
    m = int((ratios * eligible).argmax()) + 1
    return labels[:m], (
        f"largest ratio between consecutive shares among the top {limit + 1} (key irreps "
        f"must carry ≥ {rule['min_share']:.0%}): share #{m} / share #{m + 1} = "
        f"{ratios[m - 1]:.1f} ({values[m - 1]:.2%} vs {values[m]:.2%}); the {m} key irreps "
        f"cover {values[:m].sum():.1%} of the score"
    )


def centred(values: torch.Tensor) -> torch.Tensor:
    """Subtract the mean over all pairs: ``(order, order, ...)`` → same shape."""
    return values - values.mean(dim=(0, 1), keepdim=True)


def mean_fourier_norms(values: torch.Tensor, fb: FourierBasis) -> torch.Tensor:
    """Mean over units of the centred 2-D Fourier coefficients squared: ``(order, order)``.

    ``values``: ``(order, order, units)`` (e.g. hidden neurons or logits over ``c``).
    """
    return project_2d(centred(values), fb).pow(2).mean(dim=2)


def fourier_2d_table(coefficients: torch.Tensor, fb: FourierBasis, name: str) -> pd.DataFrame:
    """Long table of a ``(order, order)`` coefficient map: ``x, y, x_label, y_label, <name>``."""
    order = fb.group.order
    x = torch.arange(order).repeat_interleave(order)
    y = torch.arange(order).repeat(order)
    return pd.DataFrame(
        {
            "x": x.numpy(),
            "y": y.numpy(),
            "x_label": [fb.labels[i] for i in x.tolist()],
            "y_label": [fb.labels[j] for j in y.tolist()],
            name: coefficients.reshape(-1).double().numpy(),
        }
    )
