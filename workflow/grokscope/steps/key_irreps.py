"""(Un)embedding norms per Fourier basis function and irrep; the key irreps by the rule in
params (default: ranked by logit similarity and confirmed by ablation), the reference
definitions beside it, and the check every key set must pass."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from grokscope.ablations import AllPairs, key_set_losses, prefix_search
from grokscope.checkpoints import final_checkpoint, load_model
from grokscope.cyclic import paper_neuron_frequencies
from grokscope.fourier import (
    basis_norms,
    choose_key_irreps,
    combined_shares,
    embedding_shares,
    irrep_norms,
    weights_table,
)
from grokscope.groups import make_group
from grokscope.io import read_parquet, write_json, write_parquet
from grokscope.key_rules import (
    ablation_check,
    choose_confirmed,
    reference_sets,
    search_stop,
    similarity_gap,
)
from grokscope.logits import logit_similarity
from grokscope.neurons import irrep_fractions, variance_shares
from grokscope.representations import fourier_basis
from grokscope.steps import Paths


def run(inputs: Paths, outputs: Paths, settings: dict[str, Any]) -> None:
    """inputs: ``checkpoints``, ``data``; outputs: ``basis_norms``, ``irrep_norms``,
    ``weights``, ``search`` (restricted/excluded loss of each top-m by logit similarity),
    ``metrics``; settings: ``analysis.key_irreps`` (the rule, the check, the reference
    thresholds) and ``analysis.neurons`` (clean threshold, for the paper's clusters)."""
    rule = settings["analysis"]["key_irreps"]
    path = final_checkpoint(inputs["checkpoints"])
    model, sidecar = load_model(path)
    group = make_group(**sidecar["params"]["group"])
    fb, order = fourier_basis(group), group.order
    dataset = read_parquet(inputs["data"])
    s = AllPairs.of(model, group, dataset)
    neurons = s.neurons  # (order, order, units), from the one forward pass AllPairs made
    logits = s.map.logits  # (order², order) float64
    test_loss = s.row("", "", logits)["test_loss"]

    # Our score: embedding-norm and neuron-variance shares.
    matrices = model.embedding_matrices()
    norms = basis_norms(matrices, fb)
    irreps = irrep_norms(norms, fb)
    embedding = embedding_shares(irreps)
    labels = [irrep.label for irrep in fb.irreps]
    neuron = pd.Series(variance_shares(neurons, fb).numpy(), index=labels).iloc[1:]
    scores = combined_shares(embedding, neuron)
    score_rule = rule if rule["rule"] != "confirmed" else {**rule, "rule": "largest_gap"}
    score_keys, score_reason = choose_key_irreps(scores, score_rule)

    # The reference's logit similarity, and the top-m ablation search along it.
    similarity = logit_similarity(logits, fb).sort_values(ascending=False, kind="stable")
    by_label = {irrep.label: irrep for irrep in fb.irreps}
    ranked = [by_label[label] for label in similarity.index]
    stop = search_stop(similarity, test_loss, order, rule)
    search = prefix_search(s, fb, neurons, ranked, stop)
    search["similarity"] = search["irrep"].map(similarity)
    if rule["rule"] == "confirmed":
        keys, reason = choose_confirmed(similarity, search, test_loss, order, rule)
    else:
        keys, reason = score_keys, score_reason

    def checked(names: list[str]) -> dict[str, Any]:
        losses = key_set_losses(s, fb, neurons, [by_label[k] for k in names])
        gap = similarity_gap(similarity, names) if names else 0.0
        check = ablation_check(test_loss, **losses, gap=gap, order=order, check=rule["check"])
        return {"key_irreps": names, **check}

    references = reference_sets(similarity, rule["reference"])
    sets = {"chosen": keys, f"our score ({score_rule['rule']})": score_keys}
    sets |= {f"logit similarity > {rule['reference'][n]:g}": k for n, k in references.items()}
    paper = None
    if group.name == "cyclic":  # frequency k of C_n is irrep k
        threshold = settings["analysis"]["neurons"]["clean_threshold"]
        paper = paper_neuron_frequencies(irrep_fractions(neurons, fb), order, threshold)
        sets["paper per-neuron rule"] = [f"freq {k}" for k in paper["keys"]]
    compared = {name: checked(names) for name, names in sets.items()}
    check = compared["chosen"]

    write_parquet(outputs["basis_norms"], norms)
    irreps["neuron_share"] = irreps["irrep"].map(neuron)
    irreps["score"] = irreps["irrep"].map(scores)
    irreps["logit_similarity"] = irreps["irrep"].map(similarity)
    write_parquet(outputs["irrep_norms"], irreps)
    write_parquet(outputs["weights"], weights_table(matrices, fb))
    write_parquet(outputs["search"], search)
    index = {irrep.label: irrep.index for irrep in fb.irreps}
    write_json(
        outputs["metrics"],
        {
            "checkpoint": path.name,
            "key_irreps": keys,
            "key_irrep_indices": [index[k] for k in keys],
            "rule": rule["rule"],
            "reason": reason,
            "check": {k: v for k, v in check.items() if k != "key_irreps"},
            "flags": check["flags"],
            "rules": compared,
            "reference": {
                "thresholds": rule["reference"],
                "logit_similarity": {k: round(float(v), 6) for k, v in similarity.items()},
                "paper_neuron_rule": paper,
            },
            "score_rule": {
                "rule": score_rule["rule"],
                "key_irreps": score_keys,
                "reason": score_reason,
            },  # fmt: skip
            "key_embedding_share": float(embedding[keys].sum()),
            "key_neuron_share": float(neuron[keys].sum()),
            "key_logit_fve": float(similarity[keys].pow(2).sum()),
            "log_order": math.log(order),
            "scores": {label: round(float(v), 6) for label, v in scores.items()},
        },
    )
