"""Cayley tables: group axioms, orders, labels, and the notebook's dihedral convention."""

from __future__ import annotations

import multiprocessing

import pytest
import torch

from grokscope.families import FAMILIES, group_order
from grokscope.groups import GROUPS, make_group

torch.set_num_threads(1)

# (name, n, expected order)
GROUP_CASES = [
    ("cyclic", 12, 12),
    ("cyclic", 13, 13),
    ("dihedral", 5, 10),
    ("dihedral", 6, 12),
    ("dihedral", 53, 106),
    ("symmetric", 4, 24),
    ("alternating", 4, 12),
    ("alternating", 5, 60),
]
IDS = [f"{name}{n}" for name, n, _ in GROUP_CASES]


@pytest.fixture(scope="module", params=GROUP_CASES, ids=IDS)
def case(request):
    name, n, order = request.param
    return make_group(name, n), order


def test_order(case):
    group, order = case
    assert group.order == order
    assert group.table.shape == (order, order)
    assert group.table.dtype == torch.int64
    assert group_order(group.name, group.n) == order


def test_closure(case):
    group, order = case
    assert int(group.table.min()) >= 0
    assert int(group.table.max()) < order


def test_latin_square(case):
    # every row and column is a permutation of the elements (cancellation laws)
    group, order = case
    expected = torch.arange(order)
    assert torch.equal(group.table.sort(dim=1).values, expected.expand(order, -1))
    assert torch.equal(group.table.sort(dim=0).values, expected[:, None].expand(-1, order))


def test_associativity(case):
    group, _ = case
    t = group.table
    lhs = t[t]  # lhs[a, b, c] = t[t[a, b], c] = (a∘b)∘c
    a = torch.arange(t.shape[0])[:, None, None]
    rhs = t[a, t[None, :, :]]  # rhs[a, b, c] = t[a, t[b, c]] = a∘(b∘c)
    assert lhs.shape == rhs.shape == (t.shape[0],) * 3
    assert torch.equal(lhs, rhs)


def test_identity(case):
    group, order = case
    e = group.identity
    k = torch.arange(order)
    assert torch.equal(group.table[e], k)
    assert torch.equal(group.table[:, e], k)
    # identity is unique
    is_left_identity = (group.table == k).all(dim=1)
    assert int(is_left_identity.sum()) == 1


def test_inverses(case):
    group, order = case
    k = torch.arange(order)
    inv = group.inverse(k)
    assert inv.shape == (order,)
    e = group.identity
    assert torch.all(group.table[k, inv] == e)
    assert torch.all(group.table[inv, k] == e)
    # scalar inverse agrees with the vectorised one
    for a in (0, 1, order - 1):
        assert int(group.inverse(a)) == int(inv[a])
    # inverse is an involution
    assert torch.equal(group.inverse(inv), k)


def test_compose_matches_table(case):
    group, order = case
    a = torch.arange(order)[:, None]
    b = torch.arange(order)[None, :]
    assert torch.equal(group.compose(a, b), group.table)
    assert int(group.compose(1, order - 1)) == int(group.table[1, order - 1])


def test_labels(case):
    group, order = case
    assert len(group.labels) == order
    assert len(set(group.labels)) == order
    assert all(isinstance(label, str) and label for label in group.labels)


def test_identity_is_element_zero(case):
    # every constructor puts the identity first (rotation r0 / identity permutation)
    group, _ = case
    assert group.identity == 0


@pytest.mark.parametrize(
    ("name", "n"), [("dihedral", 3), ("dihedral", 5), ("dihedral", 6), ("symmetric", 4)]
)
def test_non_abelian(name, n):
    t = make_group(name, n).table
    assert not torch.equal(t, t.T)


@pytest.mark.parametrize("n", [12, 13])
def test_cyclic_is_abelian_addition(n):
    t = make_group("cyclic", n).table
    assert torch.equal(t, t.T)
    k = torch.arange(n)
    assert torch.equal(t, (k[:, None] + k[None, :]) % n)


class NotebookDihedral:
    """The source notebook's DihedralGroup composition, re-implemented for comparison."""

    def __init__(self, index):
        self.index = index

    def idx_to_cpts(self, x):
        r = x % self.index
        s = 1 if x >= self.index else 0
        return r, s

    def cpts_to_idx(self, r, s):
        return r + s * self.index

    def compose(self, x, y):
        x_r, x_s = self.idx_to_cpts(x)
        y_r, y_s = self.idx_to_cpts(y)
        if x_s == 0:
            z_r = (x_r + y_r) % self.index
            z_s = y_s
        else:
            z_r = (x_r - y_r) % self.index
            z_s = (1 + y_s) % 2
        return self.cpts_to_idx(z_r, z_s)


@pytest.mark.parametrize("n", [5, 6, 53])
def test_dihedral_matches_notebook(n):
    group = make_group("dihedral", n)
    ref = NotebookDihedral(n)
    expected = torch.tensor(
        [[ref.compose(x, y) for y in range(2 * n)] for x in range(2 * n)], dtype=torch.int64
    )
    assert torch.equal(group.table, expected)


@pytest.mark.parametrize("n", [5, 6])
def test_dihedral_structure(n):
    g = make_group("dihedral", n)
    r, s = 1, n  # generators
    # r has order n, s has order 2, s r s = r^-1
    x = 0
    for _ in range(n):
        x = int(g.table[x, r])
    assert x == 0
    assert int(g.table[s, s]) == 0
    assert int(g.table[g.table[s, r], s]) == int(g.inverse(r))
    assert g.labels[0] == "r0" and g.labels[n] == "r0s"


def test_symmetric_composes_as_functions():
    g = make_group("symmetric", 3)
    perms = [tuple(int(c) for c in label) for label in g.labels]
    for i, p in enumerate(perms):
        for j, q in enumerate(perms):
            composed = tuple(p[q[k]] for k in range(3))
            assert perms[int(g.table[i, j])] == composed


def test_alternating_is_even_permutations():
    g = make_group("alternating", 4)
    for label in g.labels:
        p = [int(c) for c in label]
        inversions = sum(p[i] > p[j] for i in range(4) for j in range(i + 1, 4))
        assert inversions % 2 == 0


def test_unknown_group_raises():
    with pytest.raises(ValueError, match="quaternion"):
        make_group("quaternion", 8)


def test_registry_names():
    assert set(GROUPS) == {"cyclic", "dihedral", "symmetric", "alternating"}


def test_symbol():
    assert make_group("dihedral", 53).symbol == "D_53"
    assert make_group("cyclic", 12).symbol == "C_12"


@pytest.mark.parametrize(
    ("name", "n", "order"),
    [("cyclic", 41, 41), ("dihedral", 53, 106), ("symmetric", 5, 120), ("alternating", 5, 60)],
)
def test_group_order_without_table(name, n, order):
    assert group_order(name, n) == order


def test_every_family_has_a_table_constructor():
    assert tuple(GROUPS) == FAMILIES


def _order_of_huge_cyclic():
    group_order("cyclic", 10**8)


def test_group_order_of_huge_cyclic_is_instant():
    proc = multiprocessing.get_context("fork").Process(target=_order_of_huge_cyclic)
    proc.start()
    proc.join(timeout=3)
    hung = proc.is_alive()
    if hung:
        proc.kill()
        proc.join()
    assert not hung, "group_order('cyclic', 10**8) did not return within 3 s"
    assert proc.exitcode == 0
