"""Dataset of all pairs, the train/test split, and Parquet I/O with clear errors."""

from __future__ import annotations

import os
import random

import pandas as pd
import pytest
import torch

from grokscope.data import all_pairs, make_dataset, train_mask
from grokscope.groups import make_group
from grokscope.io import (
    ArtifactError,
    parquet_metadata,
    read_json,
    read_parquet,
    write_atomic,
    write_json,
    write_parquet,
)

torch.set_num_threads(1)


@pytest.mark.parametrize(("name", "n"), [("cyclic", 7), ("dihedral", 5), ("symmetric", 3)])
def test_all_pairs_row_major(name, n):
    group = make_group(name, n)
    pairs = all_pairs(group)
    order = group.order
    assert pairs.shape == (order * order, 3)
    assert pairs.dtype == torch.int64
    for i in (0, 1, order, order * order - 1, order * 2 + 3):
        a, b, c = (int(x) for x in pairs[i])
        assert (a, b) == divmod(i, order)
        assert c == int(group.table[a, b])
    assert torch.equal(pairs[:, 2], group.table.flatten())
    assert torch.equal(pairs[:, 2], group.table[pairs[:, 0], pairs[:, 1]])


def test_train_mask_deterministic_and_seed_dependent():
    m1 = train_mask(500, 0.3, seed=3)
    m2 = train_mask(500, 0.3, seed=3)
    m3 = train_mask(500, 0.3, seed=4)
    assert torch.equal(m1, m2)
    assert not torch.equal(m1, m3)
    assert m1.dtype == torch.bool and m1.shape == (500,)


def test_train_mask_ignores_global_rng():
    torch.manual_seed(123)
    m1 = train_mask(300, 0.5, seed=1)
    torch.manual_seed(999)
    torch.randn(10)
    m2 = train_mask(300, 0.5, seed=1)
    assert torch.equal(m1, m2)


@pytest.mark.parametrize("mode", ["seeded", "published"])
def test_seed_zero_shuffles(mode):
    n = 400
    k = int(0.3 * n)
    mask = train_mask(n, 0.3, seed=0, mode=mode)
    first_k = torch.zeros(n, dtype=torch.bool)
    first_k[:k] = True
    assert int(mask.sum()) == k
    assert not torch.equal(mask, first_k)
    # and not concentrated at the start: some train pairs lie in the second half
    assert bool(mask[n // 2 :].any())


@pytest.mark.parametrize("mode", ["seeded", "published"])
@pytest.mark.parametrize(("num", "frac"), [(1681, 0.5), (169, 0.3), (100, 0.37), (12769, 0.3)])
def test_train_fraction(num, frac, mode):
    mask = train_mask(num, frac, seed=2, mode=mode)
    assert int(mask.sum()) == int(frac * num)


def test_published_split_matches_reference():
    p = 113
    mask = train_mask(p * p, 0.3, seed=0, mode="published")
    assert int(mask.sum()) == 3830
    random.seed(0)
    idx = list(range(p * p))
    random.shuffle(idx)
    expected = torch.zeros(p * p, dtype=torch.bool)
    expected[idx[:3830]] = True
    assert torch.equal(mask, expected)


def test_seeded_split_matches_torch_randperm():
    g = torch.Generator().manual_seed(5)
    perm = torch.randperm(200, generator=g)
    expected = torch.zeros(200, dtype=torch.bool)
    expected[perm[:50]] = True
    assert torch.equal(train_mask(200, 0.25, seed=5, mode="seeded"), expected)


def test_unknown_mode_raises():
    with pytest.raises(ValueError, match="bogus"):
        train_mask(10, 0.5, 0, mode="bogus")


def test_make_dataset_columns():
    group = make_group("dihedral", 4)
    df = make_dataset(group, 0.4, seed=1)
    assert list(df.columns) == ["a", "b", "c", "split"]
    assert len(df) == group.order**2
    for col in "abc":
        assert df[col].dtype == "int64"
    assert set(df["split"].astype(str)) == {"train", "test"}
    assert int((df["split"] == "train").sum()) == int(0.4 * group.order**2)
    pairs = all_pairs(group).numpy()
    assert (df[["a", "b", "c"]].to_numpy() == pairs).all()
    mask = train_mask(len(df), 0.4, 1).numpy()
    assert ((df["split"] == "train").to_numpy() == mask).all()


def test_make_dataset_published_mode():
    group = make_group("cyclic", 11)
    df = make_dataset(group, 0.3, seed=0, mode="published")
    mask = train_mask(121, 0.3, 0, mode="published").numpy()
    assert ((df["split"] == "train").to_numpy() == mask).all()


def test_parquet_round_trip(tmp_path):
    df = make_dataset(make_group("cyclic", 9), 0.5, seed=3)
    meta = {"group": {"name": "cyclic", "n": 9}, "data": {"frac_train": 0.5}, "seed": 3}
    path = tmp_path / "sub" / "pairs.parquet"
    write_parquet(path, df, meta)
    back = read_parquet(path)
    pd.testing.assert_frame_equal(back, df)
    assert parquet_metadata(path) == meta
    assert list(read_parquet(path, columns=["a", "c"]).columns) == ["a", "c"]


def test_parquet_without_metadata(tmp_path):
    path = tmp_path / "x.parquet"
    write_parquet(path, pd.DataFrame({"x": [1.5, 2.5]}))
    assert parquet_metadata(path) == {}
    assert read_parquet(path)["x"].tolist() == [1.5, 2.5]


def test_parquet_write_leaves_no_temp_files(tmp_path):
    df = pd.DataFrame({"a": range(10)})
    write_parquet(tmp_path / "a.parquet", df, {"k": 1})
    write_parquet(tmp_path / "a.parquet", df, {"k": 2})  # overwrite
    assert sorted(os.listdir(tmp_path)) == ["a.parquet"]
    assert parquet_metadata(tmp_path / "a.parquet") == {"k": 2}


def test_failed_atomic_write_keeps_old_file(tmp_path):
    path = tmp_path / "out.json"
    write_json(path, {"v": 1})
    before = path.read_bytes()

    def broken(tmp):
        tmp.write_text("partial")
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        write_atomic(path, broken)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["out.json"]


@pytest.mark.parametrize("reader", [read_parquet, parquet_metadata])
def test_missing_parquet_raises(tmp_path, reader):
    path = tmp_path / "missing.parquet"
    with pytest.raises(ArtifactError) as info:
        reader(path)
    assert str(path) in str(info.value)


def _good_parquet_bytes(tmp_path):
    path = tmp_path / "good.parquet"
    write_parquet(path, make_dataset(make_group("cyclic", 5), 0.5, 0), {"k": 1})
    return path.read_bytes()


@pytest.mark.parametrize("reader", [read_parquet, parquet_metadata])
@pytest.mark.parametrize("corruption", ["garbage", "truncated", "empty", "no_footer"])
def test_corrupt_parquet_raises(tmp_path, reader, corruption):
    good = _good_parquet_bytes(tmp_path)
    bad = {
        "garbage": bytes(range(256)) * 4,
        "truncated": good[: len(good) // 2],
        "empty": b"",
        "no_footer": good[:-1],
    }[corruption]
    path = tmp_path / "bad.parquet"
    path.write_bytes(bad)
    with pytest.raises(ArtifactError) as info:
        reader(path)
    assert str(path) in str(info.value)


def test_json_round_trip_and_errors(tmp_path):
    path = tmp_path / "m.json"
    write_json(path, {"b": 1, "a": [1, 2]})
    assert read_json(path) == {"a": [1, 2], "b": 1}
    assert path.read_text().index('"a"') < path.read_text().index('"b"')  # sorted keys
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(ArtifactError, match="bad.json"):
        read_json(bad)
    with pytest.raises(ArtifactError, match="nope.json"):
        read_json(tmp_path / "nope.json")
