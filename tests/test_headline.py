"""Headline numbers: the one small file per experiment and per sweep that DVC shows as
metrics, from the metrics files the steps write."""

from __future__ import annotations

import json

from grokscope.headline import (
    EXPERIMENT_KEYS,
    SWEEP_KEYS,
    as_json,
    experiment_headline,
    sweep_headline,
)

# The tiny experiment's metrics files as the steps write them (abridged where not read).
FILES = {
    "final": {"epoch": 2500, "grokked_epoch": 1400, "memorised_epoch": 100, "test_acc": 1.0,
              "test_loss": 0.0007279006114431494, "train_acc": 1.0,
              "train_loss": 1.4012801761402802e-06},
    "key_irreps": {"key_irreps": ["freq 10", "freq 9", "freq 2"], "key_irrep_indices": [10, 9, 2],
                   "scores": {f"freq {k}": 0.01 for k in range(1, 21)}},
    "neurons": {"clean_fraction": 0.859375, "cluster_sizes": {"freq 10": 11, "freq 9": 10}},
    "logits": {"fve": 0.8927488494479446, "fve_sum": 0.81, "coefficients": {"freq 10": 2.5}},
    "ablations": {"logits_restricted_test_loss": 1.7684073011068818e-05,
                  "logits_excluded_train_loss": 2.539652879914251,
                  "restricted_test_loss": 1.0, "excluded_train_loss": 1.0},
    "phases": {"memorisation_end": 106, "circuit_formation_end": 700, "cleanup_end": None,
               "phases": [{"name": "memorisation", "start": 0, "end": 106}]},
}  # fmt: skip


def test_experiment_headline_is_the_documented_keys_in_order_and_flat():
    headline = experiment_headline(FILES)
    assert list(headline) == [key for key, _, _ in EXPERIMENT_KEYS]
    assert len(headline) <= 15
    assert headline["key_irreps"] == "freq 10, freq 9, freq 2"  # strongest first
    assert headline["key_irrep_count"] == 3
    # The logit-level ablations: restricted on the test pairs, excluded on the training pairs.
    assert headline["restricted_loss"] == 1.76841e-05
    assert headline["excluded_loss"] == 2.53965
    assert headline["train_loss"] == 1.40128e-06  # six significant digits, tiny losses kept
    assert headline["logit_fve"] == 0.892749
    assert headline["grokked_epoch"] == 1400 and headline["cleanup_end"] is None
    assert all(not isinstance(v, dict | list) for v in headline.values())


def test_headline_file_keeps_its_order_and_reads_back():
    text = as_json(experiment_headline(FILES))
    assert list(json.loads(text)) == [key for key, _, _ in EXPERIMENT_KEYS]
    assert text.endswith("}\n")


def test_sweep_headline_counts_members_irreps_and_firsts():
    universality = {
        "members": 3,
        "key_irreps_by_member": {"s-seed0": ["[2, 1, 1]", "[3, 1]"], "s-seed1": ["[3, 1]"],
                                 "s-seed2": ["[3, 1]", "[2, 1, 1]"]},
        "members_learning": {"[3, 1]": 3, "[2, 1, 1]": 2},
        "members_learning_first": {"[3, 1]": 2, "[2, 1, 1]": 1},
    }  # fmt: skip
    members = {
        "s-seed0": {"grokked_epoch": 600, "test_acc": 1.0},
        "s-seed1": {"grokked_epoch": 800, "test_acc": 0.995},
        "s-seed2": {"grokked_epoch": None, "test_acc": 0.4},
    }
    headline = sweep_headline(universality, members)
    assert list(headline) == SWEEP_KEYS
    assert headline == {
        "members": 3,
        "grokked_members": 2,
        "grokked_epoch_median": 700.0,
        "test_acc_min": 0.4,
        "key_irreps": "[3, 1] 3/3, [2, 1, 1] 2/3",
        "key_irrep_sets": 2,  # {[3, 1], [2, 1, 1]} twice, {[3, 1]} once
        "learned_first": "[3, 1] 2/3",
    }


def test_sweep_where_no_member_grokked_has_no_median():
    universality = {"key_irreps_by_member": {"m": []}, "members_learning": {},
                    "members_learning_first": {}}  # fmt: skip
    headline = sweep_headline(universality, {"m": {"grokked_epoch": None, "test_acc": 0.1}})
    assert headline["grokked_members"] == 0 and headline["grokked_epoch_median"] is None
    assert headline["key_irreps"] == "" and headline["learned_first"] is None
