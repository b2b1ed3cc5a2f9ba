"""(Un)embedding norms per Fourier basis function and irrep; the key irreps, by an explicit
rule, with the reason."""

from __future__ import annotations

from typing import Any

import pandas as pd
import torch

from grokscope.activations import ActivationCache
from grokscope.checkpoints import final_checkpoint, load_model
from grokscope.fourier import (
    basis_norms,
    choose_key_irreps,
    combined_shares,
    embedding_shares,
    irrep_norms,
    weights_table,
)
from grokscope.groups import make_group
from grokscope.io import write_json, write_parquet
from grokscope.neurons import variance_shares
from grokscope.representations import fourier_basis
from grokscope.steps import Paths


def run(inputs: Paths, outputs: Paths, settings: dict[str, Any]) -> None:
    """An irrep's score is the geometric mean of its share of the input embeddings' norm and
    its share of the hidden neurons' centred variance; the rule picks from the scores.

    inputs: ``checkpoints``, ``activations``; outputs: ``basis_norms``, ``irrep_norms``,
    ``weights``, ``metrics``; settings: ``analysis.key_irreps`` (the rule).
    """
    rule = settings["analysis"]["key_irreps"]
    path = final_checkpoint(inputs["checkpoints"])
    model, sidecar = load_model(path)
    group = sidecar["params"]["group"]
    fb = fourier_basis(make_group(group["name"], group["n"]))
    matrices = model.embedding_matrices()
    norms = basis_norms(matrices, fb)
    irreps = irrep_norms(norms, fb)
    embedding = embedding_shares(irreps)
    neurons = torch.from_numpy(ActivationCache(inputs["activations"]).read("neurons"))
    labels = [irrep.label for irrep in fb.irreps]
    neuron = pd.Series(variance_shares(neurons, fb).numpy(), index=labels).iloc[1:]
    scores = combined_shares(embedding, neuron)
    keys, reason = choose_key_irreps(scores, rule)
    irreps["neuron_share"] = irreps["irrep"].map(neuron)
    irreps["score"] = irreps["irrep"].map(scores)

    write_parquet(outputs["basis_norms"], norms)
    write_parquet(outputs["irrep_norms"], irreps)
    write_parquet(outputs["weights"], weights_table(matrices, fb))
    index = {irrep.label: irrep.index for irrep in fb.irreps}
    write_json(
        outputs["metrics"],
        {
            "checkpoint": path.name,
            "key_irreps": keys,
            "key_irrep_indices": [index[k] for k in keys],
            "rule": rule["rule"],
            "reason": reason,
            "key_embedding_share": float(embedding[keys].sum()),
            "key_neuron_share": float(neuron[keys].sum()),
            "scores": {label: round(float(v), 6) for label, v in scores.items()},
        },
    )
