"""Known-answer tests for ablations and progress measures on a hand-built network."""

from __future__ import annotations

import math

import pytest
import torch

from grokscope.ablations import (
    AllPairs,
    exclude,
    keep_block,
    logit_transform,
    logits_with_neurons,
    neuron_values,
    product_basis,
    restrict,
    split_losses,
)
from grokscope.data import all_pairs
from grokscope.frequency_ablations import (
    BOTH_INPUTS,
    SEED_ABLATIONS,
    frequency_rows,
    remove_frequencies,
    remove_frequencies_along_b,
    seed_non_key_frequencies,
    seed_sum_difference_frequencies,
)
from grokscope.groups import make_group
from grokscope.models import BilinearNet
from grokscope.progress import gini
from grokscope.representations import fourier_basis

N, K, SCALE = 23, 4, 300.0


@pytest.fixture(scope="module")
def constructed():
    """A BilinearNet on C_23 that computes exactly SCALE · cos(w(a + b − c)), w = 2πK/N.

    Products: cos wa cos wb, sin wa sin wb, cos wa sin wb, sin wa cos wb; the unembedding
    reads cos(w(a+b)) = p0 − p1 against cos wc and sin(w(a+b)) = p2 + p3 against sin wc.
    """
    w = 2 * math.pi * K / N
    x = torch.arange(N, dtype=torch.float32)
    cos, sin = torch.cos(w * x), torch.sin(w * x)
    model = BilinearNet(N, 4, seed=0)
    with torch.no_grad():
        model.W_E_a.copy_(torch.stack([cos, sin, cos, sin], dim=1))
        model.W_E_b.copy_(torch.stack([cos, sin, sin, cos], dim=1))
        model.W_U.copy_(SCALE * torch.stack([cos, -cos, sin, sin]))
    group = make_group("cyclic", N)
    fb = fourier_basis(group)
    pairs = all_pairs(make_group("cyclic", N))[:, :2]
    labels = group.table.flatten()
    is_train = torch.rand(N * N, generator=torch.Generator().manual_seed(0)) < 0.4
    key = [irrep for irrep in fb.irreps if irrep.label == f"freq {K}"]
    return model, fb, pairs, labels, is_train, key


def test_constructed_network_is_what_it_claims(constructed):
    model, fb, pairs, labels, is_train, _ = constructed
    a, b = pairs[:, 0].double(), pairs[:, 1].double()
    c = torch.arange(N, dtype=torch.float64)
    expected = SCALE * torch.cos(2 * math.pi * K * (a[:, None] + b[:, None] - c[None, :]) / N)
    assert torch.allclose(model(pairs).double(), expected, atol=1e-3)
    assert split_losses(model(pairs), labels, is_train)["test_acc"] == 1.0


def test_excluding_the_only_irrep_gives_log_order_and_restricting_keeps_baseline(constructed):
    model, fb, pairs, labels, is_train, key = constructed
    neurons = neuron_values(model, pairs)
    baseline = split_losses(logits_with_neurons(model, pairs, neurons), labels, is_train)
    dirs = product_basis(fb, key)
    restricted = split_losses(
        logits_with_neurons(model, pairs, restrict(neurons, dirs)), labels, is_train
    )
    excluded = split_losses(
        logits_with_neurons(model, pairs, exclude(neurons, dirs)), labels, is_train
    )
    assert excluded["train_loss"] == pytest.approx(math.log(N), rel=1e-4)
    assert excluded["test_loss"] == pytest.approx(math.log(N), rel=1e-4)
    assert restricted["train_loss"] == pytest.approx(baseline["train_loss"], rel=1e-3)
    assert baseline["train_loss"] < 0.01

    # The same at the logits.
    logits = model(pairs)
    on_logits = split_losses(logit_transform(logits, lambda v: exclude(v, dirs)), labels, is_train)
    assert on_logits["train_loss"] == pytest.approx(math.log(N), rel=1e-4)
    kept = split_losses(logit_transform(logits, lambda v: restrict(v, dirs)), labels, is_train)
    assert kept["train_loss"] == pytest.approx(baseline["train_loss"], rel=1e-3)

    # Another irrep's directions are irrelevant: excluding them changes nothing.
    other = [irrep for irrep in fb.irreps if irrep.label == f"freq {K + 1}"]
    unchanged = exclude(neurons, product_basis(fb, other))
    assert torch.allclose(unchanged, neurons, atol=1e-5)


def test_own_block_and_frequency_removal(constructed):
    model, fb, pairs, _, _, key = constructed
    neurons = neuron_values(model, pairs).double()
    assert torch.allclose(keep_block(neurons, fb, key[0].index), neurons, atol=1e-5)
    other = key[0].index + 1
    assert keep_block(neurons, fb, other).abs().max() < 1e-5
    # Products of frequency-K waves hold frequencies K along each input and nothing else.
    assert remove_frequencies(neurons, [K]).abs().max() < 1e-5
    assert torch.allclose(remove_frequencies(neurons, [K + 1, 2 * K]), neurons, atol=1e-5)


def test_gini():
    assert gini(torch.ones(10)) == pytest.approx(0.0, abs=1e-12)
    one_hot = torch.zeros(10)
    one_hot[3] = 5.0
    assert gini(one_hot) == pytest.approx(0.9)


@pytest.mark.parametrize("kind", ["bilinear", "mlp", "transformer"])
def test_logits_are_affine_in_the_neurons_as_the_ablations_assume(kind):
    from grokscope.ablations import NeuronMap
    from grokscope.models import build_model

    spec = {
        "bilinear": {"kind": "bilinear", "embed_dim": 16},
        "mlp": {"kind": "mlp", "embed_dim": 8, "hidden_dim": 24},
        "transformer": {
            "kind": "transformer",
            "d_model": 16,
            "n_heads": 2,
            "d_head": 8,
            "d_mlp": 24,
        },
    }[kind]
    group = make_group("cyclic", 11)
    model = build_model(spec, group.order, 0).eval()
    pairs = all_pairs(group)[:, :2]
    neuron_map = NeuronMap.of(model, pairs)
    neurons = neuron_map.neurons
    other = torch.randn(neurons.shape, generator=torch.Generator().manual_seed(1))
    # Replacing the activation in a real forward pass gives the affine map's logits.
    expected = logits_with_neurons(model, pairs, other).double()
    assert torch.allclose(neuron_map.with_neurons(other), expected, atol=1e-4)
    assert torch.allclose(neuron_map.with_neurons(neurons), model(pairs).double(), atol=1e-5)
    # A linear per-unit ablation applied through the readout equals it applied to the neurons.
    fb = fourier_basis(group)
    dirs = product_basis(fb, [fb.irreps[2]])
    for transform in (lambda v: restrict(v, dirs), lambda v: exclude(v, dirs)):
        direct = logits_with_neurons(model, pairs, transform(neurons)).double()
        assert torch.allclose(neuron_map.transformed(transform), direct, atol=1e-4)
    some = torch.tensor([0, 3, 5])
    partial = neurons.clone()
    partial[:, :, some] = exclude(neurons[:, :, some], dirs)
    direct = logits_with_neurons(model, pairs, partial).double()
    assert torch.allclose(
        neuron_map.transformed(lambda v: exclude(v, dirs), some), direct, atol=1e-4
    )


def test_seed_004_frequency_ablations_act_along_b_only():
    """Seed 004's ablations on a hand-built network whose answer is known.

    Units 0-3 compute SCALE · cos(w(a + b − c)) (frequency K along a and along b); unit 4 is
    cos(2wa) (frequency 2K along a, constant along b) and unit 5 cos(2wb) (2K along b), both
    read out against D · cos(2wc). The sum/difference frequencies of the key K are {2K}.
    The notebook's FFT along b removes unit 5 only; the two-input generalisation removes both.
    """
    n, k, scale, d = N, K, SCALE, 100.0
    w = 2 * math.pi * k / n
    x = torch.arange(n, dtype=torch.float32)
    cos, sin, one = torch.cos(w * x), torch.sin(w * x), torch.ones(n)
    cos2 = torch.cos(2 * w * x)
    model = BilinearNet(n, 6, seed=0)
    with torch.no_grad():
        model.W_E_a.copy_(torch.stack([cos, sin, cos, sin, cos2, one], dim=1))
        model.W_E_b.copy_(torch.stack([cos, sin, sin, cos, one, cos2], dim=1))
        model.W_U.copy_(torch.stack([scale * cos, -scale * cos, scale * sin, scale * sin,
                                     d * cos2, d * cos2]))  # fmt: skip
    group = make_group("cyclic", n)
    pairs = all_pairs(group)[:, :2]
    labels = group.table.flatten()
    is_train = torch.rand(n * n, generator=torch.Generator().manual_seed(1)) < 0.4
    s = AllPairs(model, pairs, labels, is_train)
    rows = {r["ablation"]: r for r in frequency_rows(s, n, neuron_values(model, pairs), [k])}

    a, b = pairs[:, 0].double(), pairs[:, 1].double()
    c = torch.arange(n, dtype=torch.float64)
    clean = scale * torch.cos(w * (a[:, None] + b[:, None] - c[None, :]))
    unit4 = d * torch.cos(2 * w * a)[:, None] * torch.cos(2 * w * c)[None, :]
    expected = {
        SEED_ABLATIONS["without sum/difference frequencies"]: clean + unit4,
        SEED_ABLATIONS["key frequencies only"]: clean + unit4,
        BOTH_INPUTS["without sum/difference frequencies"]: clean,
        BOTH_INPUTS["key frequencies only"]: clean,
    }
    for name, logits in expected.items():
        want = split_losses(logits, labels, is_train)
        assert rows[name]["train_loss"] == pytest.approx(want["train_loss"], rel=1e-4), name
        assert rows[name]["test_loss"] == pytest.approx(want["test_loss"], rel=1e-4), name
    # The two readings differ here: unit 4 costs loss that only the generalisation removes.
    seed = rows[SEED_ABLATIONS["without sum/difference frequencies"]]["train_loss"]
    both = rows[BOTH_INPUTS["without sum/difference frequencies"]]["train_loss"]
    assert seed > 2 * both

    # The seed's lists: keys stay in the sum/difference list; n//2 is never "not key".
    assert seed_sum_difference_frequencies([14, 35, 41, 42, 52], 113)[:3] == [1, 6, 7]
    assert 41 in seed_sum_difference_frequencies([6, 35, 41], 113)  # 35 + 6: a key, kept
    assert 56 not in seed_non_key_frequencies([14], 113) and 55 in seed_non_key_frequencies(
        [14], 113
    )
    planted = torch.cos(2 * w * x)[:, None] + torch.cos(2 * w * x)[None, :]  # (a, b)
    along_b = remove_frequencies_along_b(planted[..., None], [2 * k])[..., 0]
    assert torch.allclose(along_b, torch.cos(2 * w * x)[:, None].expand(n, n), atol=1e-5)
