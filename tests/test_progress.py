"""Known answers for the grokking paper's progress measures and its phases."""

from __future__ import annotations

import math

import pandas as pd
import pytest
import torch
from repo_utils import ROOT

from grokscope.data import all_pairs
from grokscope.groups import make_group
from grokscope.phases import phase_boundaries
from grokscope.progress import logit_losses
from grokscope.representations import fourier_basis

REFERENCE = ROOT.parent / "shared" / "reference" / "nanda_mod113_final.pth"
N = 23


def cyclic_logits(terms: dict[int, float]) -> torch.Tensor:
    """logit(a, b, c) = Σ_w β_w cos(2πw(a + b − c)/N) over all pairs: ``(N², N)``."""
    pairs = all_pairs(make_group("cyclic", N))
    a, b = pairs[:, 0, None].double(), pairs[:, 1, None].double()
    c = torch.arange(N, dtype=torch.float64)[None, :]
    return sum(beta * torch.cos(2 * math.pi * w * (a + b - c) / N) for w, beta in terms.items())


def split(seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    group = make_group("cyclic", N)
    labels = all_pairs(group)[:, 2]
    is_train = torch.zeros(N * N, dtype=torch.bool)
    is_train[torch.randperm(N * N, generator=torch.Generator().manual_seed(seed))[: N * N // 3]] = 1
    return labels, is_train


def loss(logits: torch.Tensor, labels: torch.Tensor) -> float:
    return float(torch.nn.functional.cross_entropy(logits, labels))


def test_restricted_loss_keeps_only_the_key_frequencies_waves_in_a_plus_b():
    fb = fourier_basis(make_group("cyclic", N))
    labels, is_train = split()
    key, other = 5, 9
    logits = cyclic_logits({key: 6.0, other: 3.0})  # the answer's wave plus a distractor
    out = logit_losses(logits, fb, [fb.irreps[key]], labels, is_train)
    # Restricting to frequency 5 removes the frequency-9 wave exactly: the loss of 6 cos(...).
    assert out["restricted_loss"] == pytest.approx(loss(cyclic_logits({key: 6.0}), labels))
    # Excluding frequency 5 leaves only the distractor, whose loss at the true answer is known.
    assert out["excluded_loss"] == pytest.approx(
        loss(cyclic_logits({other: 3.0})[is_train], labels[is_train])
    )
    # Key frequency 9 instead: restricted keeps the distractor, excluded the answer's wave.
    swapped = logit_losses(logits, fb, [fb.irreps[other]], labels, is_train)
    assert swapped["restricted_loss"] == pytest.approx(loss(cyclic_logits({other: 3.0}), labels))


def test_excluding_every_wave_leaves_a_uniform_guess_and_each_key_alone_is_reported():
    fb = fourier_basis(make_group("cyclic", N))
    labels, is_train = split()
    logits = cyclic_logits({3: 4.0, 7: 4.0})
    keys = [fb.irreps[3], fb.irreps[7]]
    out = logit_losses(logits, fb, keys, labels, is_train)
    assert out["excluded_loss"] == pytest.approx(math.log(N))  # nothing left: uniform
    assert out["restricted_loss"] == pytest.approx(loss(logits, labels))  # nothing removed
    alone = out["excluded_loss freq 3"]
    assert alone == pytest.approx(loss(cyclic_logits({7: 4.0})[is_train], labels[is_train]))
    assert math.log(N) > alone > out["restricted_loss"]


def curves(train: list[float], test: list[float], every: int = 100) -> pd.DataFrame:
    return pd.DataFrame(
        {"epoch": range(0, every * len(train), every), "train_loss": train, "test_loss": test}
    )


def test_phases_on_a_planted_curve():
    chance = math.log(N)
    train = [3.2, 0.5, 1e-3, 1e-5, 1e-6, 1e-6, 1e-6, 1e-7, 1e-7]
    test = [3.2, 4.0, 6.0, 5.0, 4.0, 2.0, 1e-3, 5e-6, 5e-7]
    progress = pd.DataFrame(
        {
            "epoch": [0, 200, 300, 400, 500, 600, 800],
            "restricted_loss": [3.0, 5.0, 4.0, 2.0, 1.0, 0.1, 1e-6],
            "excluded_loss": [3.0, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0],
        }
    )
    out = phase_boundaries(curves(train, test), progress, N, {"gap_factor": 10})
    assert (out["memorisation_end"], out["circuit_formation_end"], out["cleanup_end"]) == (
        200,
        500,
        800,
    )
    assert out["rule"]["chance_loss"] == pytest.approx(chance)
    assert out["restricted_loss_falls"] == 400 and out["restricted_before_test"] is True
    # Excluded loss: 2.0 at the end of memorisation, 4.0 at the end of circuit formation
    # (above ln 23 / 2 = 1.57), never below 4.0 after it.
    assert (
        out["excluded_loss_at_memorisation_end"],
        out["excluded_loss_at_circuit_formation_end"],
    ) == (2.0, 4.0)
    assert out["excluded_rises"] and out["excluded_loss_min_after_circuit_formation"] == 4.0
    assert out["excluded_stays_high"]
    # A run whose excluded loss falls back after circuit formation does not stay high.
    fallen = progress.assign(excluded_loss=[3.0, 2.0, 2.5, 3.0, 4.0, 5.0, 0.5])
    out = phase_boundaries(curves(train, test), fallen, N, {"gap_factor": 10})
    assert out["excluded_rises"] and not out["excluded_stays_high"]
    # Nor does one whose excluded loss never rises (the key irreps are not what it uses).
    flat = progress.assign(excluded_loss=[3.0, 0.01, 0.01, 0.01, 0.01, 0.01, 0.01])
    out = phase_boundaries(curves(train, test), flat, N, {"gap_factor": 10})
    assert not out["excluded_rises"] and not out["excluded_stays_high"]
    assert [p["name"] for p in out["phases"]] == ["memorisation", "circuit formation", "clean-up"]


def test_phases_of_a_run_that_never_generalises_stay_open():
    out = phase_boundaries(
        curves([3.0, 1e-3, 1e-6], [3.0, 5.0, 6.0]), pd.DataFrame(), N, {"gap_factor": 10}
    )
    assert out["memorisation_end"] == 200 and out["circuit_formation_end"] is None
    assert [p["name"] for p in out["phases"]] == ["memorisation"]


@pytest.mark.skipif(not REFERENCE.exists(), reason=f"reference checkpoint not found at {REFERENCE}")
def test_phases_of_the_published_run_are_the_papers():
    from grokscope.external import load_untrusted, logged_curves

    out = phase_boundaries(
        logged_curves(load_untrusted(REFERENCE)), pd.DataFrame(), 113, {"gap_factor": 10}
    )
    # The paper: memorisation to ~1.4k, circuit formation to ~9.4k, clean-up to ~14k.
    assert abs(out["memorisation_end"] - 1400) <= 100
    assert abs(out["circuit_formation_end"] - 9400) <= 200
    assert abs(out["cleanup_end"] - 14000) <= 500
