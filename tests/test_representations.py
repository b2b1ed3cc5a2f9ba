"""Fourier bases by real irrep: orthonormality, invariance, characters, known answers."""

from __future__ import annotations

import functools
import math
import time

import numpy as np
import pytest
import torch

from grokscope.groups import Group, alternating, cyclic, dihedral, symmetric
from grokscope.representations import (
    FourierBasis,
    character_table,
    fourier_basis,
    product_directions,
    project_2d,
)
from grokscope.representations_numeric import fourier_basis_numeric

BUILDERS = {
    "C_12": lambda: cyclic(12),
    "C_13": lambda: cyclic(13),
    "D_6": lambda: dihedral(6),
    "D_53": lambda: dihedral(53),
    "S_4": lambda: symmetric(4),
    "S_5": lambda: symmetric(5),
    "A_4": lambda: alternating(4),
    "A_5": lambda: alternating(5),
}
NAMES = list(BUILDERS)
KIND_NORM = {"real": 1, "complex": 2, "quaternionic": 4}  # Σ_g χ_R(g)² / |G|
KIND_ROWS = {"real": 1, "complex": 2, "quaternionic": 4}  # dim² / number of rows


@functools.cache
def group(name: str) -> Group:
    return BUILDERS[name]()


@functools.cache
def basis(name: str) -> FourierBasis:
    return fourier_basis(group(name))


def class_ids(g: Group) -> torch.Tensor:
    """Conjugacy class of each element (smallest member), computed directly from the table."""
    h = torch.arange(g.order)
    conj = g.table[g.table[h[:, None], h[None, :]], g.inverse(h)[:, None]]  # [h, x] = h x h⁻¹
    return conj.min(dim=0).values


def notebook_basis(n: int, dtype: torch.dtype = torch.float32) -> tuple[torch.Tensor, list[str]]:
    """The source notebook's ``compute_fourier_basis`` for C_n (float32 like it, on the CPU)."""
    rows, names = [torch.ones(n, dtype=dtype) / np.sqrt(n)], ["Const"]
    g = torch.arange(n, dtype=dtype)
    for i in range(1, n // 2 + 1):
        rows.append(torch.cos(2 * torch.pi * g * i / n))
        rows.append(torch.sin(2 * torch.pi * g * i / n))
        rows[-2] /= rows[-2].norm()
        rows[-1] /= rows[-1].norm()
        names += [f"cos {i}", f"sin {i}"]
    return torch.stack(rows), names


def rho_dihedral(n: int, k: int) -> torch.Tensor:
    """(2n, 2, 2): R(2πak/n) · diag(1, −1)^t at element a + n t, built independently."""
    out = torch.empty(2 * n, 2, 2, dtype=torch.float64)
    for i in range(2 * n):
        a, t = i % n, i // n
        th = 2 * math.pi * a * k / n
        rot = torch.tensor(
            [[math.cos(th), -math.sin(th)], [math.sin(th), math.cos(th)]], dtype=torch.float64
        )
        out[i] = rot @ torch.diag(torch.tensor([1.0, -1.0 if t else 1.0], dtype=torch.float64))
    return out


def span_residual(f: torch.Tensor, block: torch.Tensor) -> float:
    """Max residual of the rows of ``f`` after projecting onto the orthonormal rows ``block``."""
    return float((f - (f @ block.T) @ block).abs().max())


# --------------------------------------------------------------------------------------------
# structure common to every group


@pytest.mark.parametrize("name", NAMES)
def test_orthonormal_and_complete(name: str) -> None:
    fb, order = basis(name), group(name).order
    assert fb.basis.shape == (order, order) and fb.basis.dtype == torch.float32
    assert fb.basis64.dtype == torch.float64
    eye64 = torch.eye(order, dtype=torch.float64)
    assert torch.allclose(fb.basis64 @ fb.basis64.T, eye64, atol=1e-10)
    assert torch.allclose(fb.basis64.T @ fb.basis64, eye64, atol=1e-10)  # complete
    eye32 = torch.eye(order)
    assert torch.allclose(fb.basis @ fb.basis.T, eye32, atol=1e-5)
    assert torch.allclose(fb.basis.T @ fb.basis, eye32, atol=1e-5)
    assert torch.linalg.matrix_rank(fb.basis64) == order
    assert torch.allclose(fb.basis.double(), fb.basis64, atol=1e-6)
    assert len(fb.labels) == order and len(set(fb.labels)) == order


@pytest.mark.parametrize("name", NAMES)
def test_irrep_bookkeeping(name: str) -> None:
    fb, order = basis(name), group(name).order
    rows = [r for irrep in fb.irreps for r in irrep.rows]
    assert rows == list(range(order))  # blocks are contiguous, in irrep order, cover all rows
    assert sum(len(irrep.rows) for irrep in fb.irreps) == order
    assert [irrep.index for irrep in fb.irreps] == list(range(len(fb.irreps)))
    assert len({irrep.label for irrep in fb.irreps}) == len(fb.irreps)
    assert fb.irrep_of.dtype == torch.int64
    for irrep in fb.irreps:
        assert (fb.irrep_of[list(irrep.rows)] == irrep.index).all()
        assert irrep.kind in KIND_ROWS
        assert len(irrep.rows) * KIND_ROWS[irrep.kind] == irrep.dim**2
    dims = [irrep.dim for irrep in fb.irreps[1:]]
    if group(name).name != "cyclic":  # cyclic: the notebook's order, 'freq n/2' (1-d) last
        assert dims == sorted(dims)  # after the trivial irrep, ordered by dimension


@pytest.mark.parametrize("name", NAMES)
def test_trivial_irrep_is_constant(name: str) -> None:
    fb, order = basis(name), group(name).order
    trivial = fb.irreps[0]
    assert trivial.dim == 1 and trivial.kind == "real" and trivial.rows == (0,)
    assert torch.allclose(fb.basis64[0], torch.full((order,), 1 / math.sqrt(order)).double())
    assert torch.equal(trivial.character, torch.ones(order, dtype=torch.float64))


@pytest.mark.parametrize("name", NAMES)
def test_blocks_invariant_under_left_and_right_translation(name: str) -> None:
    g, fb = group(name), basis(name)
    table = g.table
    for irrep in fb.irreps:
        block = fb.basis64[list(irrep.rows)]  # (m, order)
        left = block[:, table].reshape(-1, g.order)  # [i, h, x] = f_i(h ∘ x)
        right = block[:, table.T].reshape(-1, g.order)  # [i, h, x] = f_i(x ∘ h)
        assert span_residual(left, block) < 1e-8, irrep.label
        assert span_residual(right, block) < 1e-8, irrep.label
    # …and the check can fail: a function mixing two blocks is not invariant.
    mixed = ((fb.basis64[0] + fb.basis64[-1]) / math.sqrt(2))[None]
    assert span_residual(mixed[:, table].reshape(-1, g.order), mixed) > 1e-3


@pytest.mark.parametrize("name", NAMES)
def test_character_table(name: str) -> None:
    g, fb = group(name), basis(name)
    chars = character_table(fb)
    assert chars.shape == (len(fb.irreps), g.order) and chars.dtype == torch.float64
    norms = torch.tensor([KIND_NORM[irrep.kind] for irrep in fb.irreps], dtype=torch.float64)
    assert torch.allclose(chars @ chars.T, g.order * torch.diag(norms), atol=1e-8)
    # class functions, χ(e) = dim
    cls = class_ids(g)
    assert torch.allclose(chars, chars[:, cls], atol=1e-10)
    dims = torch.tensor([irrep.dim for irrep in fb.irreps], dtype=torch.float64)
    assert torch.allclose(chars[:, g.identity], dims, atol=1e-10)
    # one irrep per real conjugacy class pair {C, C⁻¹} ⇔ number of real irreps
    inv_cls = cls[g.inverse(torch.arange(g.order))]
    real_classes = {tuple(sorted((int(a), int(b)))) for a, b in zip(cls, inv_cls, strict=True)}
    assert len(fb.irreps) == len(real_classes)
    # Frobenius–Schur: (1/|G|) Σ χ_R(g²) = ν(χ) = 1 (real), ν(χ + χ̄) = 0, ν(2χ) = −2
    squares = g.table[torch.arange(g.order), torch.arange(g.order)]
    fs = chars[:, squares].sum(1) / g.order
    expected = {"real": 1.0, "complex": 0.0, "quaternionic": -2.0}
    target = torch.tensor([expected[irrep.kind] for irrep in fb.irreps], dtype=torch.float64)
    assert torch.allclose(fs, target, atol=1e-8)


@pytest.mark.parametrize("name", NAMES)
def test_characters_belong_to_their_blocks(name: str) -> None:
    """|G|·P[:, e] of a block's projector is (dim / rows-per-dim² factor) · χ_R."""
    g, fb = group(name), basis(name)
    for irrep in fb.irreps:
        block = fb.basis64[list(irrep.rows)]
        column = g.order * (block.T @ block[:, g.identity])
        scale = irrep.dim / KIND_ROWS[irrep.kind]
        assert torch.allclose(column, scale * irrep.character, atol=1e-8), irrep.label


@pytest.mark.parametrize("name", NAMES)
def test_numeric_route_gives_the_same_blocks(name: str) -> None:
    g, fb = group(name), basis(name)
    numeric = fourier_basis_numeric(g, seed=1)
    assert torch.allclose(numeric.basis64 @ numeric.basis64.T, torch.eye(g.order).double(), 1e-10)
    assert len(numeric.irreps) == len(fb.irreps)
    matched = set()
    for irrep in fb.irreps:
        hits = [o for o in numeric.irreps if torch.allclose(o.character, irrep.character, 0, 1e-8)]
        assert len(hits) == 1, irrep.label
        other = hits[0]
        matched.add(other.index)
        assert (other.dim, other.kind, len(other.rows)) == (irrep.dim, irrep.kind, len(irrep.rows))
        mine, theirs = fb.basis64[list(irrep.rows)], numeric.basis64[list(other.rows)]
        assert torch.allclose(mine.T @ mine, theirs.T @ theirs, atol=1e-8), irrep.label
    assert len(matched) == len(fb.irreps)


@pytest.mark.parametrize("name", ["S_4", "A_4", "A_5"])
def test_numeric_basis_is_deterministic_across_seeds(name: str) -> None:
    """Blocks come from random class-sum combinations, but the basis must not depend on them."""
    g = group(name)
    a, b = fourier_basis_numeric(g, seed=0), fourier_basis_numeric(g, seed=12345)
    assert a.labels == b.labels
    assert torch.allclose(a.basis64, b.basis64, atol=1e-9)
    assert torch.equal(basis(name).basis, fourier_basis(g).basis)


@pytest.mark.parametrize("name", ["S_4", "A_4", "A_5", "D_6"])
def test_numeric_blocks_start_with_their_character(name: str) -> None:
    fb = fourier_basis_numeric(group(name))
    for irrep in fb.irreps:
        chi = irrep.character / irrep.character.norm()
        assert torch.allclose(fb.basis64[irrep.rows[0]], chi, atol=1e-10), irrep.label
        assert fb.labels[irrep.rows[0]] == f"{irrep.label} #0"


def quaternion_group() -> Group:
    """Q_8 = {±1, ±i, ±j, ±k} from the Hamilton product: the smallest quaternionic-type irrep."""
    units = [(1, 0, 0, 0), (0, 1, 0, 0), (0, 0, 1, 0), (0, 0, 0, 1)]
    elements = list(units) + [tuple(-x for x in u) for u in units]

    def mul(p: tuple[int, ...], q: tuple[int, ...]) -> tuple[int, ...]:
        a1, b1, c1, d1 = p
        a2, b2, c2, d2 = q
        return (
            a1 * a2 - b1 * b2 - c1 * c2 - d1 * d2,
            a1 * b2 + b1 * a2 + c1 * d2 - d1 * c2,
            a1 * c2 - b1 * d2 + c1 * a2 + d1 * b2,
            a1 * d2 + b1 * c2 - c1 * b2 + d1 * a2,
        )

    index = {e: i for i, e in enumerate(elements)}
    table = torch.tensor([[index[mul(p, q)] for q in elements] for p in elements])
    return Group("quaternion", 8, table, ("1", "i", "j", "k", "-1", "-i", "-j", "-k"))


def test_quaternionic_irrep_of_q8() -> None:
    g = quaternion_group()
    fb = fourier_basis(g)  # no closed form: the numeric route
    assert torch.allclose(fb.basis64 @ fb.basis64.T, torch.eye(8).double(), atol=1e-10)
    summary = [(irrep.dim, irrep.kind, len(irrep.rows)) for irrep in fb.irreps]
    assert summary == [(1, "real", 1)] * 4 + [(4, "quaternionic", 4)]
    quat = fb.irreps[-1]
    # the real character of the 2-d complex irrep viewed over ℝ is 2χ: 4 at 1, −4 at −1, else 0
    assert torch.allclose(quat.character, torch.tensor([4.0, 0, 0, 0, -4, 0, 0, 0]).double())
    chars = character_table(fb)
    assert torch.allclose(chars @ chars.T, 8 * torch.diag(torch.tensor([1.0, 1, 1, 1, 4])).double())
    block = fb.basis64[list(quat.rows)]
    assert span_residual(block[:, g.table].reshape(-1, 8), block) < 1e-8


# --------------------------------------------------------------------------------------------
# cyclic


@pytest.mark.parametrize("n", [12, 13, 113])
def test_cyclic_matches_notebook(n: int) -> None:
    fb = basis(f"C_{n}") if f"C_{n}" in BUILDERS else fourier_basis(cyclic(n))
    ref, names = notebook_basis(n)
    ref64, _ = notebook_basis(n, torch.float64)
    # the notebook's even-n 'sin n/2' row is sin(πg)/‖sin(πg)‖: 0/0, or float32 noise normalised
    keep = n if n % 2 else n - 1
    assert list(fb.labels[:keep]) == names[:keep]
    assert torch.allclose(fb.basis[:keep], ref64[:keep].float(), atol=1e-6)
    # the float32 notebook itself loses ~1e-5 at large angles 2πgk/n (n = 113)
    assert torch.allclose(fb.basis[:keep], ref[:keep], atol=1e-6 if n < 50 else 2e-5)
    assert fb.basis.shape == (n, n)
    expected = ["trivial"] + [f"freq {k}" for k in range(1, n // 2 + 1)]
    assert [irrep.label for irrep in fb.irreps] == expected
    for irrep in fb.irreps[1:]:
        k = int(irrep.label.split()[1])
        if 2 * k < n:
            assert (irrep.dim, irrep.kind) == (2, "complex")
            assert [fb.labels[r] for r in irrep.rows] == [f"cos {k}", f"sin {k}"]
    if n % 2 == 0:
        last = fb.irreps[-1]
        assert (last.dim, last.kind, last.rows) == (1, "real", (n - 1,))
        assert fb.labels[-1] == f"cos {n // 2}"
        alt = torch.tensor([(-1.0) ** i for i in range(n)]) / math.sqrt(n)
        assert torch.allclose(fb.basis[-1], alt, atol=1e-7)
        assert ref.shape[0] == n + 1  # the notebook's extra row, which we do not copy


# --------------------------------------------------------------------------------------------
# dihedral


@pytest.mark.parametrize("name", ["D_6", "D_53"])
def test_dihedral_irreps(name: str) -> None:
    g, fb = group(name), basis(name)
    n, order = g.n, g.order
    one_d = ["trivial", "sign"] + (["alt", "alt·sign"] if n % 2 == 0 else [])
    rots = [f"rot {k}" for k in range(1, math.ceil(n / 2))]
    assert [irrep.label for irrep in fb.irreps] == one_d + rots
    assert len(one_d) + 4 * len(rots) == order
    idx = torch.arange(order)
    a, t = idx % n, idx // n
    sign = fb.irreps[1].character
    assert torch.equal(sign, torch.where(t == 0, 1.0, -1.0).double())
    if n % 2 == 0:
        assert torch.equal(fb.irreps[2].character, ((-1.0) ** a).double())
        assert torch.equal(fb.irreps[3].character, ((-1.0) ** (a + t)).double())
    for irrep in fb.irreps[: len(one_d)]:  # 1-d characters are homomorphisms
        chi = irrep.character
        assert torch.equal(chi[g.table], chi[:, None] * chi[None, :]), irrep.label
    for k, irrep in enumerate(fb.irreps[len(one_d) :], start=1):
        rho = rho_dihedral(n, k)
        # ρ_k is a homomorphism for groups.dihedral's composition
        product = torch.einsum("aij,bjk->abik", rho, rho)
        assert torch.allclose(rho[g.table], product, atol=1e-10), irrep.label
        assert (irrep.dim, irrep.kind, len(irrep.rows)) == (2, "real", 4)
        block = fb.basis64[list(irrep.rows)]
        entries = math.sqrt(2 / order) * rho.reshape(order, 4).T  # (4, order)
        assert span_residual(entries, block) < 1e-10
        assert torch.allclose(block, entries, atol=1e-10)  # rows are exactly the entries
        assert [fb.labels[r] for r in irrep.rows] == [
            f"rot {k} [{i}{j}]" for i in "01" for j in "01"
        ]
        assert torch.allclose(irrep.character, rho[:, 0, 0] + rho[:, 1, 1], atol=1e-12)


# --------------------------------------------------------------------------------------------
# symmetric and alternating


def perms(g: Group) -> list[tuple[int, ...]]:
    return [tuple(int(c) for c in label) for label in g.labels]


def test_symmetric_4_labels_are_the_partitions() -> None:
    fb = basis("S_4")
    labels = [irrep.label for irrep in fb.irreps]
    assert sorted(labels) == sorted(["[4]", "[3, 1]", "[2, 2]", "[2, 1, 1]", "[1, 1, 1, 1]"])
    assert labels[0] == "[4]"
    dims = {irrep.label: irrep.dim for irrep in fb.irreps}
    assert dims == {"[4]": 1, "[3, 1]": 3, "[2, 2]": 2, "[2, 1, 1]": 3, "[1, 1, 1, 1]": 1}
    assert all(irrep.kind == "real" for irrep in fb.irreps)


@pytest.mark.parametrize("name", ["S_4", "S_5"])
def test_symmetric_characters_known_values(name: str) -> None:
    """χ_[n-1,1] = fixed points − 1; χ_[1^n] = sign; χ_[n-1,1]⊗sign = χ_[2,1^(n-2)]."""
    g, fb = group(name), basis(name)
    n = g.n
    by_label = {irrep.label: irrep.character for irrep in fb.irreps}
    ps = perms(g)
    fixed = torch.tensor([sum(p[i] == i for i in range(n)) for p in ps], dtype=torch.float64)
    inversions = [sum(p[i] > p[j] for i in range(n) for j in range(i + 1, n)) for p in ps]
    sign = torch.tensor([(-1.0) ** k for k in inversions], dtype=torch.float64)
    standard = str([n - 1, 1])
    assert torch.allclose(by_label[standard], fixed - 1, atol=1e-9)
    assert torch.allclose(by_label[str([1] * n)], sign, atol=1e-9)
    assert torch.allclose(by_label[str([2] + [1] * (n - 2))], (fixed - 1) * sign, atol=1e-9)


def test_group_irrep_counts_and_types() -> None:
    s5 = basis("S_5")
    assert len(s5.irreps) == 7
    assert [irrep.dim for irrep in s5.irreps] == [1, 1, 4, 4, 5, 5, 6]
    a4 = basis("A_4")  # 1, the merged pair of conjugate 1-d complex irreps (ω, ω̄), 3
    assert [(irrep.dim, irrep.kind, len(irrep.rows)) for irrep in a4.irreps] == [
        (1, "real", 1),
        (2, "complex", 2),
        (3, "real", 9),
    ]
    a5 = basis("A_5")  # the two 3-dim irreps have real characters (1 ± √5)/2 on 5-cycles
    assert [irrep.dim for irrep in a5.irreps] == [1, 3, 3, 4, 5]
    assert all(irrep.kind == "real" for irrep in a5.irreps)
    for irrep in a5.irreps[1:3]:
        values = irrep.character.numpy()
        assert np.isclose(values, (1 + math.sqrt(5)) / 2).sum() == 12
        assert np.isclose(values, (1 - math.sqrt(5)) / 2).sum() == 12
    assert [irrep.dim for irrep in basis("S_4").irreps] == [1, 1, 2, 3, 3]
    assert len(basis("C_12").irreps) == 7 and len(basis("C_13").irreps) == 7
    assert len(basis("D_53").irreps) == 2 + 26


def test_symmetric_6_is_fast_and_orthonormal() -> None:
    start = time.perf_counter()
    fb = fourier_basis(symmetric(6))
    elapsed = time.perf_counter() - start
    assert elapsed < 15  # typically ~1 s
    assert fb.basis.shape == (720, 720)
    assert torch.allclose(fb.basis64 @ fb.basis64.T, torch.eye(720).double(), atol=1e-10)
    assert [irrep.dim for irrep in fb.irreps] == [1, 1, 5, 5, 5, 5, 9, 9, 10, 10, 16]


# --------------------------------------------------------------------------------------------
# product directions and the 2-D projection


@pytest.mark.parametrize("name", NAMES)
def test_product_directions(name: str) -> None:
    g, fb = group(name), basis(name)
    dirs = [product_directions(fb, irrep) for irrep in fb.irreps]
    for irrep, d in zip(fb.irreps, dirs, strict=True):
        assert d.shape == (len(irrep.rows), g.order, g.order) and d.dtype == torch.float32
        # a function of a ∘ b only: d[r, a, b] = d[r, e, a ∘ b]
        assert torch.equal(d, d[:, g.identity][:, g.table])
    flat = torch.cat(dirs).reshape(g.order, -1).double()
    assert torch.allclose(flat @ flat.T, torch.eye(g.order).double(), atol=1e-5)


@pytest.mark.parametrize("k", [1, 4, 6])
def test_product_directions_cyclic_are_cos_sin_of_sum(k: int) -> None:
    fb = basis("C_13")
    irrep = next(i for i in fb.irreps if i.label == f"freq {k}")
    d = product_directions(fb, irrep).reshape(2, -1).double()
    a = torch.arange(13, dtype=torch.float64)
    angle = 2 * math.pi * k * (a[:, None] + a[None, :]) / 13
    expected = torch.stack([torch.cos(angle), torch.sin(angle)]).reshape(2, -1)
    expected = expected / expected.norm(dim=1, keepdim=True)
    assert span_residual(expected, d) < 1e-6 and span_residual(d, expected) < 1e-6
    assert torch.allclose(d, expected, atol=1e-6)  # here even exactly, not just the span


@pytest.mark.parametrize("name", ["C_13", "S_4"])
def test_project_2d_definition_and_inverse(name: str) -> None:
    g, fb = group(name), basis(name)
    values = torch.randn(g.order, g.order, 3, 2, generator=torch.Generator().manual_seed(0))
    out = project_2d(values, fb)
    assert out.shape == values.shape and out.dtype == torch.float32
    ref = torch.einsum("ia,jb,abxy->ijxy", fb.basis64, fb.basis64, values.double())
    assert torch.allclose(out.double(), ref, atol=1e-4)
    out64 = project_2d(values.double(), fb)
    assert out64.dtype == torch.float64
    assert torch.allclose(out64, ref, atol=1e-12)
    back = torch.einsum("ia,jb,ijxy->abxy", fb.basis64, fb.basis64, out64)
    assert torch.allclose(back, values.double(), atol=1e-10)
    with pytest.raises(ValueError):
        project_2d(values[1:], fb)


@pytest.mark.parametrize(("n", "k", "phase"), [(12, 5, 0.0), (13, 5, 0.7), (113, 14, 0.3)])
def test_project_2d_planted_neuron(n: int, k: int, phase: float) -> None:
    """relu(cos(wa+φ) + cos(wb+φ)) lives (≥ 95%, ~96% in the limit) in {trivial, freq k}²."""
    fb = basis(f"C_{n}") if f"C_{n}" in BUILDERS else fourier_basis(cyclic(n))
    x = 2 * math.pi * k * torch.arange(n, dtype=torch.float64) / n + phase
    act = torch.relu(torch.cos(x)[:, None] + torch.cos(x)[None, :])
    act = (act - act.mean()).float()
    coef = project_2d(act, fb).double() ** 2
    rows = [0, *next(i for i in fb.irreps if i.label == f"freq {k}").rows]
    keep = torch.zeros(n, n, dtype=torch.bool)
    keep[torch.tensor(rows)[:, None], torch.tensor(rows)[None, :]] = True
    keep[0, 0] = False
    frac = float(coef[keep].sum() / coef.sum())
    assert frac >= 0.95
    wrong = [0, *next(i for i in fb.irreps if i.label == f"freq {k % 5 + 1}").rows]
    keep_wrong = torch.zeros(n, n, dtype=torch.bool)
    keep_wrong[torch.tensor(wrong)[:, None], torch.tensor(wrong)[None, :]] = True
    keep_wrong[0, 0] = False
    assert float(coef[keep_wrong].sum() / coef.sum()) < 0.5
