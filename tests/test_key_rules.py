"""Known-answer tests for the key-irrep rules: the reference's logit similarity finds a planted
sign component, the paper's per-neuron rule finds planted frequencies, the ablation-confirmed
rule keeps an irrep the loose loss test does not need, and the failed-ablation and
no-clear-key flags fire on planted failing cases and not on good ones."""

from __future__ import annotations

import math

import pandas as pd
import pytest
import torch
import torch.nn.functional as F

from grokscope.ablations import AllPairs, key_set_losses, neuron_values
from grokscope.cyclic import paper_neuron_frequencies
from grokscope.data import all_pairs
from grokscope.groups import make_group
from grokscope.key_rules import (
    ablation_check,
    choose_confirmed,
    reference_sets,
    similarity_gap,
)
from grokscope.logits import character_features, logit_fve, logit_similarity
from grokscope.models import BilinearNet
from grokscope.neurons import irrep_fractions
from grokscope.representations import fourier_basis

CHECK = {"restricted_factor": 10, "excluded_log_fraction": 0.5, "min_gap": 2.0}
RULE = {"min_similarity": 0.05, "check": CHECK}


def planted_logits(fb, weights: dict[str, float], noise: float, seed: int = 0) -> torch.Tensor:
    """``Σ w_r χ_r(a b c⁻¹)`` + noise + a constant per pair: ``(order², order)``."""
    irreps = [i for i in fb.irreps if i.label in weights]
    chars = character_features(fb, irreps)  # (k, order, order, order)
    cube = sum(weights[i.label] * chars[j] for j, i in enumerate(irreps))
    gen = torch.Generator().manual_seed(seed)
    cube = cube + noise * torch.randn(cube.shape, generator=gen, dtype=torch.float64)
    cube = cube + torch.randn(cube.shape[:2], generator=gen, dtype=torch.float64)[..., None]
    order = fb.group.order
    return cube.reshape(order * order, order)


def test_logit_similarity_is_the_reference_cosine_and_finds_a_planted_sign():
    fb = fourier_basis(make_group("symmetric", 4))
    logits = planted_logits(fb, {"[3, 1]": 3.0, "[1, 1, 1, 1]": 1.0}, noise=0.01)
    sim = logit_similarity(logits, fb)
    # The reference's definition, with the cube built: cosine of the flattened centred
    # logits with tr ρ(a b c⁻¹) (F.cosine_similarity, as Metrics.logit_trace_similarity).
    centred = (logits - logits.mean(dim=-1, keepdim=True)).reshape(-1)
    for irrep in fb.irreps[1:]:
        cube = character_features(fb, [irrep])[0].reshape(-1)
        expected = float(F.cosine_similarity(centred, cube, dim=0))
        assert sim[irrep.label] == pytest.approx(expected, abs=1e-10), irrep.label
    sets = reference_sets(sim, {"key": 0.005, "learning_order": 0.05})
    assert set(sets["key"]) == set(sets["learning_order"]) == {"[3, 1]", "[1, 1, 1, 1]"}
    assert sim["[1, 1, 1, 1]"] > 0.05  # the 1-dimensional sign irrep is found
    # Characters are orthogonal over the cube: Σ sim² is the least-squares FVE.
    irreps = [i for i in fb.irreps if i.label in sets["key"]]
    fve = logit_fve(logits, fb, irreps)["fve"]
    assert fve == pytest.approx(float((sim[sets["key"]] ** 2).sum()), rel=1e-9)


def test_confirmed_rule_extends_to_a_clear_gap_and_flags_a_weak_one():
    # S_5 as measured: [4, 1] and [2, 2, 1] alone pass the loose loss test, but sign stands
    # far above the rest (0.31 vs 0.003), so the confirmed rule keeps it.
    sim = pd.Series({"[4, 1]": 0.54, "[2, 2, 1]": 0.35, "sign": 0.31, "[3, 2]": 0.003})
    search = pd.DataFrame(
        {
            "m": [1, 2, 3],
            "irrep": list(sim.index[:3]),
            "restricted_loss": [0.04, 4.6e-7, 9.5e-8],
            "excluded_loss": [0.32, 7.7, 9.2],
        }
    )
    keys, reason = choose_confirmed(sim, search, 7.9e-6, 120, RULE)
    assert keys == ["[4, 1]", "[2, 2, 1]", "sign"], reason
    assert "m = 2" in reason
    gap = similarity_gap(sim, keys)
    assert gap == pytest.approx(0.31 / 0.003)
    check = ablation_check(7.9e-6, 9.5e-8, 9.2, gap, 120, CHECK)
    assert check["confirmed"] and check["flags"] == []

    # No clear gap anywhere (D_53-like): the smallest passing m, flagged "no clear key".
    sim = pd.Series({f"rot {i}": v for i, v in enumerate([0.42, 0.27, 0.25, 0.24, 0.19, 0.16])})
    search = pd.DataFrame(
        {
            "m": [1, 2, 3, 4],
            "irrep": list(sim.index[:4]),
            "restricted_loss": [4.0, 2.6, 0.01, 0.001],
            "excluded_loss": [1e-4, 1e-3, 2.8, 3.6],
        }
    )
    keys, _ = choose_confirmed(sim, search, 0.0018, 106, RULE)
    assert len(keys) >= 3  # m = 3 is the first top-m that passes
    check = ablation_check(0.0018, 0.01, 2.8, similarity_gap(sim, keys), 106, CHECK)
    assert check["confirmed"] and [f.split(":")[0] for f in check["flags"]] == ["no clear key"]


def test_failed_ablation_flags_fire_on_a_failing_key_set_and_not_on_a_good_one():
    # mlp_d53's old key set: restricted 0.43 against a test loss of 0.0018, excluded 0.0105.
    bad = ablation_check(0.0018, 0.43, 0.0105, 0.57, 106, CHECK)
    assert not bad["confirmed"] and not bad["restricted_ok"] and not bad["excluded_ok"]
    kinds = [f.split(":")[0] for f in bad["flags"]]
    assert kinds == ["ablation failed", "ablation failed", "no clear key"]
    assert bad["restricted_limit"] == pytest.approx(0.018)
    assert bad["excluded_limit"] == pytest.approx(math.log(106) / 2)
    good = ablation_check(0.0018, 0.0003, 4.4, 2.5, 106, CHECK)
    assert good["confirmed"] and good["gap_ok"] and good["flags"] == []


N, K, SCALE = 23, 4, 300.0


def bilinear_cos(n: int, k: int, scale: float) -> BilinearNet:
    """A BilinearNet on C_n computing exactly ``scale · cos(w(a + b − c))``, ``w = 2πk/n``."""
    w = 2 * math.pi * k / n
    x = torch.arange(n, dtype=torch.float32)
    cos, sin = torch.cos(w * x), torch.sin(w * x)
    model = BilinearNet(n, 4, seed=0)
    with torch.no_grad():
        model.W_E_a.copy_(torch.stack([cos, sin, cos, sin], dim=1))
        model.W_E_b.copy_(torch.stack([cos, sin, sin, cos], dim=1))
        model.W_U.copy_(scale * torch.stack([cos, -cos, sin, sin]))
    return model


def test_check_on_a_hand_built_network_confirms_its_irrep_and_flags_another():
    group = make_group("cyclic", N)
    fb = fourier_basis(group)
    model = bilinear_cos(N, K, SCALE)
    pairs = all_pairs(group)[:, :2]
    is_train = torch.rand(N * N, generator=torch.Generator().manual_seed(0)) < 0.4
    s = AllPairs(model, pairs, group.table.flatten(), is_train)
    neurons = neuron_values(model, pairs)
    logits = s.with_neurons(neurons)
    test_loss = s.row("", "", logits)["test_loss"]
    sim = logit_similarity(logits, fb)
    assert sim[f"freq {K}"] == pytest.approx(1.0, abs=1e-6)
    for label, confirmed in ((f"freq {K}", True), (f"freq {K + 1}", False)):
        irrep = next(i for i in fb.irreps if i.label == label)
        losses = key_set_losses(s, fb, neurons, [irrep])
        check = ablation_check(test_loss, **losses, gap=similarity_gap(sim, [label]),
                               order=N, check=CHECK)  # fmt: skip
        assert check["confirmed"] is confirmed, check
        if confirmed:
            assert check["flags"] == [] and check["excluded_loss"] == pytest.approx(math.log(N))
        else:
            kinds = [f.split(":")[0] for f in check["flags"]]
            assert kinds == ["ablation failed", "ablation failed", "no clear key"], kinds


def test_papers_per_neuron_rule_finds_planted_frequencies():
    n = 41
    fb = fourier_basis(make_group("cyclic", n))
    w, x = 2 * math.pi / n, torch.arange(n, dtype=torch.float64)
    units = []
    for k, phase in [(5, 0.3), (5, 1.9), (9, -0.7)]:
        wave = torch.cos(k * w * x + phase)
        units.append(torch.relu(wave[:, None] + wave[None, :]))
    gen = torch.Generator().manual_seed(0)
    units.append(torch.randn(n, n, generator=gen, dtype=torch.float64))  # noise: not clean
    units.append(torch.zeros(n, n, dtype=torch.float64))  # dead: skipped
    fractions = irrep_fractions(torch.stack(units, dim=-1), fb)
    out = paper_neuron_frequencies(fractions, n, clean_threshold=0.85)
    noise_freq = int(fractions[3, 1 : n // 2].argmax()) + 1
    assert out["keys"] == sorted({5, 9, noise_freq})
    assert out["neurons"]["freq 5"] == 2 and out["clean"]["freq 5"] == 2
    assert out["clean"]["freq 9"] == 1 and out["clean"].get(f"freq {noise_freq}", 0) <= 1
