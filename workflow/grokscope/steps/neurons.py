"""Neuron clusters by irrep (fraction of centred variance per irrep block; clean neurons), the
mean 2-D Fourier power of neurons and logits, and each cluster's readout to the logits."""

from __future__ import annotations

from typing import Any

import pandas as pd
import torch

from grokscope.activations import ActivationCache
from grokscope.checkpoints import final_checkpoint, load_model
from grokscope.fourier import fourier_2d_table, mean_fourier_norms
from grokscope.groups import make_group
from grokscope.io import read_json, write_json, write_parquet
from grokscope.neurons import cluster_neurons, cluster_sizes, irrep_fractions, readout_by_cluster
from grokscope.representations import fourier_basis
from grokscope.steps import Paths


def run(inputs: Paths, outputs: Paths, settings: dict[str, Any]) -> None:
    """inputs: ``checkpoints``, ``activations``, ``key_irreps``; outputs: ``clusters``,
    ``sizes``, ``fourier_mean``, ``readout``, ``metrics``; settings: ``analysis.neurons``
    (``clean_threshold``)."""
    threshold = settings["analysis"]["neurons"]["clean_threshold"]
    cache = ActivationCache(inputs["activations"])
    group = cache.meta("neurons")["group"]
    fb = fourier_basis(make_group(group["name"], group["n"]))
    neurons = torch.from_numpy(cache.read("neurons"))  # (order, order, units)
    logits = torch.from_numpy(cache.read("logits"))  # (order, order, order)
    model, _ = load_model(final_checkpoint(inputs["checkpoints"]))

    fractions = irrep_fractions(neurons, fb)  # (units, irreps)
    clusters = cluster_neurons(fractions, fb, threshold)
    sizes = cluster_sizes(clusters)
    labels = [irrep.label for irrep in fb.irreps]
    wide = pd.DataFrame(fractions.numpy(), columns=labels).assign(neuron=range(len(fractions)))
    mean_norms = fourier_2d_table(mean_fourier_norms(neurons, fb), fb, "neurons")
    mean_norms["logits"] = fourier_2d_table(mean_fourier_norms(logits, fb), fb, "logits")["logits"]
    keys = read_json(inputs["key_irreps"])["key_irreps"]
    alive = clusters[clusters["irrep"] != "dead"]

    write_parquet(outputs["readout"], readout_by_cluster(model.neuron_readout(), clusters, fb))
    write_parquet(outputs["clusters"], clusters.merge(wide, on="neuron"))
    write_parquet(outputs["sizes"], sizes)
    write_parquet(outputs["fourier_mean"], mean_norms)
    write_json(
        outputs["metrics"],
        {
            "neurons": len(clusters),
            "dead": int((clusters["irrep"] == "dead").sum()),
            "clean_threshold": threshold,
            "clean_fraction": float(clusters["clean"].mean()),
            "in_key_irreps": float(alive["irrep"].isin(keys).mean()) if len(alive) else 0.0,
            "cluster_sizes": {r.irrep: int(r.neurons) for r in sizes.itertuples()},
            "clean_cluster_sizes": {r.irrep: int(r.clean) for r in sizes.itertuples() if r.clean},
        },
    )
