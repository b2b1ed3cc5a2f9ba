"""Analyses across checkpoints: per irrep, the embedding's share of the norm, the neurons
assigned to it (and the clean ones), and the logit similarity, at each cached checkpoint.

The same definitions as at the final checkpoint (:func:`grokscope.fourier.embedding_shares`,
:func:`grokscope.neurons.cluster_neurons`, :func:`grokscope.logits.logit_similarity`); the
logit fit of a key set is ``Σ sim²`` over it, the least-squares FVE of
:func:`grokscope.logits.logit_fve` (characters are orthogonal over the logit cube).
"""

from __future__ import annotations

import pandas as pd
import torch

from grokscope.fourier import basis_norms, embedding_shares, irrep_norms
from grokscope.logits import logit_similarity
from grokscope.neurons import cluster_neurons, irrep_fractions
from grokscope.representations import FourierBasis


def irrep_rows(
    matrices: dict[str, torch.Tensor],
    neurons: torch.Tensor,
    logits: torch.Tensor,
    fb: FourierBasis,
    clean_threshold: float,
) -> pd.DataFrame:
    """One checkpoint's rows, one per non-trivial irrep: ``irrep, irrep_index,
    embedding_share, neurons, clean, logit_similarity``.

    Args:
        matrices: the model's :meth:`~grokscope.hooks.HookedModule.embedding_matrices`.
        neurons: ``(order, order, units)``; ``logits``: ``(order², order)``.
    """
    shares = embedding_shares(irrep_norms(basis_norms(matrices, fb), fb))
    clusters = cluster_neurons(irrep_fractions(neurons, fb), fb, clean_threshold)
    counts = clusters.groupby("irrep").agg(neurons=("neuron", "size"), clean=("clean", "sum"))
    similarity = logit_similarity(logits, fb)
    irreps = list(fb.irreps[1:])
    labels = [i.label for i in irreps]
    return pd.DataFrame(
        {
            "irrep": labels,
            "irrep_index": [i.index for i in irreps],
            "embedding_share": shares.reindex(labels).fillna(0.0).to_numpy(),
            "neurons": counts["neurons"].reindex(labels).fillna(0).astype(int).to_numpy(),
            "clean": counts["clean"].reindex(labels).fillna(0).astype(int).to_numpy(),
            "logit_similarity": similarity.reindex(labels).to_numpy(),
        }
    )


def summary_row(rows: pd.DataFrame, keys: list[str], units: int) -> dict[str, float]:
    """One checkpoint's scalars from its :func:`irrep_rows`: ``key_logit_fve`` (Σ sim² over
    ``keys``), ``logit_fve_all`` (over every irrep), ``key_embedding_share``,
    ``clean_fraction`` (of ``units`` neurons) and ``clean_in_key`` (clean neurons of key irreps
    over all clean ones)."""
    key = rows["irrep"].isin(keys)
    clean = rows["clean"].sum()
    return {
        "key_logit_fve": float((rows.loc[key, "logit_similarity"] ** 2).sum()),
        "logit_fve_all": float((rows["logit_similarity"] ** 2).sum()),
        "key_embedding_share": float(rows.loc[key, "embedding_share"].sum()),
        "clean_fraction": float(clean / units),
        "clean_in_key": float(rows.loc[key, "clean"].sum() / clean) if clean else float("nan"),
    }
