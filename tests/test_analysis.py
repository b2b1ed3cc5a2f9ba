"""Known-answer tests for the analyses: planted structure must be found, noise must not."""

from __future__ import annotations

import math

import duckdb
import numpy as np
import pandas as pd
import pytest
import torch

from grokscope.activations import activation_table, read_activation
from grokscope.cyclic import by_c_and_a, fold, half_c_symmetry, neuron_phases
from grokscope.data import all_pairs
from grokscope.fourier import (
    basis_norms,
    centred,
    choose_key_irreps,
    embedding_shares,
    irrep_norms,
)
from grokscope.groups import make_group
from grokscope.io import ArtifactError, write_parquet
from grokscope.logits import logit_fve
from grokscope.neurons import (
    block_masks,
    block_power,
    cluster_neurons,
    cluster_sizes,
    irrep_fractions,
)
from grokscope.representations import (
    dihedral_rotation_rep,
    fourier_basis,
    product_directions,
    project_2d,
)


def planted_cyclic_neurons(n: int, k: int, phases: list[float]) -> torch.Tensor:
    """relu(cos(w a + φ) + cos(w b + φ)) for each phase: ``(n, n, len(phases))``."""
    w = 2 * math.pi * k / n
    a = torch.arange(n, dtype=torch.float64)
    out = [
        torch.relu(torch.cos(w * a + p)[:, None] + torch.cos(w * a + p)[None, :]) for p in phases
    ]
    return torch.stack(out, dim=-1)


@pytest.mark.parametrize("n, k", [(13, 5), (41, 9), (113, 14)])
def test_planted_cyclic_neurons_get_their_frequency(n, k):
    fb = fourier_basis(make_group("cyclic", n))
    values = planted_cyclic_neurons(n, k, [0.0, 0.7, 2.0, -1.3])
    fractions = irrep_fractions(values, fb)
    clusters = cluster_neurons(fractions, fb, threshold=0.85)
    assert (clusters["irrep"] == f"freq {k}").all()
    assert (clusters["fraction"] >= 0.95).all()
    assert clusters["clean"].all()


@pytest.mark.parametrize(
    ("name", "n"), [("cyclic", 12), ("cyclic", 13), ("dihedral", 5), ("symmetric", 4)]
)
def test_block_power_is_the_power_under_each_mask(name, n):
    # block_power projects along b only onto each row's block partners; the definition is
    # the full 2-D coefficients of the centred values, squared and summed under each block's
    # mask (the blocks disjoint), and the total over every pair.
    fb = fourier_basis(make_group(name, n))
    masks = block_masks(fb)
    assert masks.sum(dim=0).max() == 1 and masks[1:].any(dim=(1, 2)).all()
    order = fb.group.order
    values = torch.randn(order, order, 7, generator=torch.Generator().manual_seed(1)) + 2.0
    power = project_2d(centred(values.double()), fb).pow(2)  # (order, order, 7)
    in_block, total = block_power(values, fb)
    torch.testing.assert_close(in_block, torch.einsum("ijn,rij->rn", power, masks.double()))
    torch.testing.assert_close(total, power.sum(dim=(0, 1)))
    assert in_block.dtype == total.dtype == torch.float64


def test_noise_is_not_clean():
    fb = fourier_basis(make_group("cyclic", 41))
    noise = torch.randn(41, 41, 32, generator=torch.Generator().manual_seed(0))
    clusters = cluster_neurons(irrep_fractions(noise, fb), fb, threshold=0.85)
    assert clusters["fraction"].max() < 0.3
    assert not clusters["clean"].any()


@pytest.mark.parametrize("n, k", [(6, 1), (7, 2), (53, 11)])
def test_planted_dihedral_matrix_entry_of_rho_ab(n, k):
    group = make_group("dihedral", n)
    fb = fourier_basis(group)
    rho = dihedral_rotation_rep(n, k)  # (2n, 2, 2)
    # Neurons computing a matrix entry of ρ(a ∘ b), plus a little noise.
    entries = rho[group.table].flatten(2)  # (2n, 2n, 4)
    noise = 0.05 * torch.randn(
        entries.shape, generator=torch.Generator().manual_seed(n), dtype=entries.dtype
    )
    planted = entries + noise
    clusters = cluster_neurons(irrep_fractions(planted, fb), fb, threshold=0.85)
    assert (clusters["irrep"] == f"rot {k}").all(), clusters
    assert (clusters["fraction"] >= 0.95).all()


def test_planted_s4_product_direction():
    group = make_group("symmetric", 4)
    fb = fourier_basis(group)
    irrep = next(i for i in fb.irreps if i.label == "[3, 1]")
    directions = product_directions(fb, irrep).double()  # (rows, order, order)
    planted = directions[:3].permute(1, 2, 0)  # linear in ρ(ab): no ReLU needed
    clusters = cluster_neurons(irrep_fractions(planted, fb), fb, threshold=0.85)
    assert (clusters["irrep"] == "[3, 1]").all()
    assert (clusters["fraction"] > 0.99).all()


def test_dead_neurons_are_marked():
    fb = fourier_basis(make_group("cyclic", 13))
    values = torch.zeros(13, 13, 2, dtype=torch.float64)
    values[..., 1] = planted_cyclic_neurons(13, 3, [0.3])[..., 0]
    clusters = cluster_neurons(irrep_fractions(values, fb), fb, threshold=0.85)
    assert clusters.loc[0, "irrep"] == "dead" and not clusters.loc[0, "clean"]
    assert clusters.loc[1, "irrep"] == "freq 3"
    sizes = cluster_sizes(clusters)
    assert dict(zip(sizes["irrep"], sizes["neurons"], strict=True)) == {"dead": 1, "freq 3": 1}


def test_key_irreps_largest_gap_ignores_weak_extra_frequency():
    n = 41
    fb = fourier_basis(make_group("cyclic", n))
    gen = torch.Generator().manual_seed(1)
    # An embedding built from frequencies 3, 7, 12 (strong) + 20 (weak) + small noise.
    rows = {
        fb.labels.index(f"{f} {k}"): s
        for k, s in [(3, 1.0), (7, 0.9), (12, 0.8), (20, 0.15)]
        for f in ("cos", "sin")
    }
    coef = 0.01 * torch.randn(n, 16, generator=gen, dtype=torch.float64)
    for row, scale in rows.items():
        coef[row] += scale * torch.randn(16, generator=gen, dtype=torch.float64)
    W_E = fb.basis64.T @ coef  # (n, 16): coefficients → function over elements
    shares = embedding_shares(irrep_norms(basis_norms({"W_E": W_E}, fb), fb))
    keys, reason = choose_key_irreps(
        shares, {"rule": "largest_gap", "max_key": 10, "min_share": 0.02}
    )
    assert sorted(keys) == ["freq 12", "freq 3", "freq 7"], reason
    keys, _ = choose_key_irreps(shares, {"rule": "cumulative", "threshold": 0.5})
    assert 1 <= len(keys) <= 2
    keys, _ = choose_key_irreps(shares, {"rule": "explicit", "irreps": ["freq 20"]})
    assert keys == ["freq 20"]
    with pytest.raises(ValueError, match="freq 99"):
        choose_key_irreps(shares, {"rule": "explicit", "irreps": ["freq 99"]})


def test_logit_fve_of_planted_characters():
    n, keys = 23, [4, 9]
    group = make_group("cyclic", n)
    fb = fourier_basis(group)
    irreps = [i for i in fb.irreps if i.label in {f"freq {k}" for k in keys}]
    a, b, c = torch.meshgrid(*(torch.arange(n, dtype=torch.float64),) * 3, indexing="ij")
    logits = sum(3.0 * torch.cos(2 * math.pi * k * (a + b - c) / n) for k in keys)
    planted = logits.reshape(n * n, n) + 5.0  # a constant per pair changes nothing
    result = logit_fve(planted, fb, irreps)
    assert result["fve"] > 0.999 and result["fve_sum"] > 0.999
    noise = torch.randn(n * n, n, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    assert logit_fve(noise, fb, irreps)["fve"] < 0.05


def test_cyclic_views():
    n = 13
    assert fold(20, n) == 6 and fold(6, n) == 6 and fold(13, n) == 0
    fb = fourier_basis(make_group("cyclic", n))
    values = planted_cyclic_neurons(n, 5, [0.7])
    # Pre-activations A cos(w a + φ) + A cos(w b + φ): amplitude A, phase φ.
    w, x = 2 * math.pi * 5 / n, torch.arange(n, dtype=torch.float64)
    pre = 2.5 * (torch.cos(w * x + 0.7)[:, None] + torch.cos(w * x + 0.7)[None, :])
    phases = neuron_phases(pre[..., None], fb, [5])
    assert phases.loc[0, "amplitude"] == pytest.approx(2.5, rel=1e-6)
    assert phases.loc[0, "phase"] == pytest.approx(0.7, abs=1e-6)
    # A function of a + b only is perfectly symmetric about c/2; a function of a is not.
    symmetric = by_c_and_a(values)  # relu(cos + cos) is symmetric in a, b
    assert half_c_symmetry(symmetric) == pytest.approx(1.0)
    lopsided = by_c_and_a(torch.cos(w * x)[:, None].expand(n, n).clone())
    assert half_c_symmetry(lopsided) < 0.9


def test_activation_parquet_is_readable_by_pandas_and_duckdb(tmp_path):
    group = make_group("dihedral", 5)
    values = torch.randn(100, 3, 4, generator=torch.Generator().manual_seed(0))
    path = tmp_path / "act.parquet"
    meta = {"hook": "blocks.0.attn.hook_z", "unit_shape": [3, 4], "epoch": 7}
    write_parquet(path, activation_table(all_pairs(group).numpy(), values.numpy()), meta)
    back, meta_back = read_activation(path)
    assert np.array_equal(back, values.numpy())  # float32 round-trips exactly
    assert meta_back == meta
    df = pd.read_parquet(path)
    assert list(df.columns[:4]) == ["a", "b", "c", "0_0"] and len(df) == 100
    assert (df["c"].to_numpy() == group.table.flatten().numpy()).all()
    count, total = duckdb.sql(f"select count(*), sum(\"2_3\") from '{path}'").fetchall()[0]
    assert count == 100 and total == pytest.approx(float(values[:, 2, 3].sum()), rel=1e-5)


def test_bad_activation_files_give_clear_errors(tmp_path):
    with pytest.raises(ArtifactError, match="missing.parquet: file not found"):
        read_activation(tmp_path / "missing.parquet")
    bad = tmp_path / "bad.parquet"
    bad.write_bytes(b"PAR1 this is not parquet")
    with pytest.raises(ArtifactError, match="bad.parquet"):
        read_activation(bad)
    plain = tmp_path / "plain.parquet"
    write_parquet(plain, pd.DataFrame({"a": [1]}))
    with pytest.raises(ArtifactError, match="not a grokscope activation file"):
        read_activation(plain)
