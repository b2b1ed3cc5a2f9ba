"""Batched K-seed training equals K single runs of grokscope.train.train: weights, metrics.

On the CPU a single MLP run takes the fused loss (``OneLayerMLP.fast_loss``: hand-written
backward) while the batched trainer takes autograd under vmap: the same maths, rounded
differently (a few ulps per step). Training amplifies such differences, in sudden jumps
(measured on the MLP case below, per seed: max |Δ| under 4e-6 up to epoch 100, then a jump
to 5e-4–1e-3 somewhere between epochs 100 and 145, whose epoch moves with the last ulp of
the loss; 0.01–0.09 by epoch 200), so the MLP case stops at epoch 80, before that. The
transformer has no fused loss; its runs agree exactly.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pandas as pd
import pytest
import torch

from grokscope.batched import train_batched
from grokscope.checkpoints import list_checkpoints, load_checkpoint
from grokscope.curves import METRIC_COLUMNS
from grokscope.data import make_dataset
from grokscope.groups import make_group
from grokscope.train import TrainPaths, train

torch.set_num_threads(1)

SEEDS = (0, 1, 2)
RTOL, ATOL = 1e-4, 1e-5

CASES = {
    # a small MLP on C_23 for 80 epochs (memorises; see the module docstring for why not more)
    "mlp": (
        {"name": "cyclic", "n": 23},
        {"kind": "mlp", "embed_dim": 16, "hidden_dim": 64},
        {"epochs": 80, "lr": 1e-2, "eval_every": 20, "checkpoint_every": 40},
    ),
    # a tiny transformer on D_7 (order 14) for 50 epochs
    "transformer": (
        {"name": "dihedral", "n": 7},
        {"kind": "transformer", "d_model": 32, "n_heads": 2, "d_head": 16, "d_mlp": 64},
        {"epochs": 50, "lr": 1e-3, "eval_every": 10, "checkpoint_every": 25},
    ),
}


def make_exp(kind: str, seed: int) -> dict:
    group, model, train_cfg = CASES[kind]
    return {
        "seed": seed,
        "group": dict(group),
        "data": {"frac_train": 0.5, "split": "seeded"},
        "model": dict(model),
        "train": {
            "weight_decay": 1.0,
            "betas": [0.9, 0.98],
            "warmup_steps": 10,
            "log_checkpoints": 2,
            "device": "cpu",
            **train_cfg,
        },
    }


def dataset_of(exp: dict) -> pd.DataFrame:
    group = make_group(exp["group"]["name"], exp["group"]["n"])
    return make_dataset(group, exp["data"]["frac_train"], exp["seed"], exp["data"]["split"])


def paths_in(directory: Path) -> TrainPaths:
    # The pipeline's layout: directory/train/…, scratch beside the checkpoints.
    train_dir = directory / "train"
    return TrainPaths.beside(
        train_dir / "checkpoints", train_dir / "metrics.csv", train_dir / "final.json"
    )


@pytest.fixture(scope="module", params=list(CASES))
def runs(request, tmp_path_factory):
    """One batched run of K=3 seeds and the three single runs, for each model kind."""
    kind = request.param
    exps = [make_exp(kind, seed) for seed in SEEDS]
    datasets = [dataset_of(exp) for exp in exps]
    root = tmp_path_factory.mktemp(kind)
    batched = [paths_in(root / f"batched_{s}") for s in SEEDS]
    single = [paths_in(root / f"single_{s}") for s in SEEDS]
    finals_b = train_batched(copy.deepcopy(exps), datasets, batched, progress=False)
    finals_s = [
        train(copy.deepcopy(e), d, p, progress=False)
        for e, d, p in zip(exps, datasets, single, strict=True)
    ]
    return exps, batched, single, finals_b, finals_s


def test_same_checkpoints_and_weights(runs):
    exps, batched, single, _, _ = runs
    max_diff = 0.0
    for exp, pb, ps in zip(exps, batched, single, strict=True):
        got, want = list_checkpoints(pb.checkpoints), list_checkpoints(ps.checkpoints)
        assert [p.name for p in got] == [p.name for p in want]
        assert sorted(p.name for p in pb.checkpoints.iterdir()) == sorted(
            p.name for p in ps.checkpoints.iterdir()
        )
        for g, w in zip(got, want, strict=True):
            state_g, side_g = load_checkpoint(g)
            state_w, side_w = load_checkpoint(w)
            assert list(state_g) == list(state_w)
            for name in state_w:
                assert state_g[name].dtype == state_w[name].dtype, name
                if state_w[name].is_floating_point():
                    diff = (state_g[name] - state_w[name]).abs().max().item()
                    max_diff = max(max_diff, diff)
                torch.testing.assert_close(
                    state_g[name], state_w[name], rtol=RTOL, atol=ATOL, msg=f"{g.name} {name}"
                )
            metrics_g, metrics_w = side_g.pop("metrics"), side_w.pop("metrics")
            assert side_g == side_w  # format, epoch, params (with this seed), order
            assert side_g["params"] == exp
            assert metrics_g == pytest.approx(metrics_w, rel=RTOL, abs=ATOL)
        assert not pb.resume.exists()
    print(f"max |batched - single| over all weights and checkpoints: {max_diff:.3g}")


def test_same_metrics(runs):
    _, batched, single, finals_b, finals_s = runs
    for pb, ps, fb, fs in zip(batched, single, finals_b, finals_s, strict=True):
        table_b, table_s = pd.read_csv(pb.metrics_csv), pd.read_csv(ps.metrics_csv)
        assert list(table_b.columns) == METRIC_COLUMNS
        assert table_b["epoch"].tolist() == table_s["epoch"].tolist()
        pd.testing.assert_frame_equal(table_b, table_s, rtol=RTOL, atol=ATOL)
        assert json.loads(pb.metrics_json.read_text()) == fb
        assert fb.keys() == fs.keys()
        for key, value in fs.items():
            if isinstance(value, float):
                assert fb[key] == pytest.approx(value, rel=RTOL, abs=ATOL), key
            else:  # epochs (int, or None when never reached)
                assert fb[key] == value, key


def test_seeds_really_differ(runs):
    _, batched, _, _, _ = runs
    states = [load_checkpoint(list_checkpoints(p.checkpoints)[-1])[0] for p in batched]
    for name, tensor in states[0].items():
        if tensor.is_floating_point():
            assert not torch.equal(tensor, states[1][name]), name


def test_rejects_experiments_differing_beyond_seed(tmp_path):
    exps = [make_exp("mlp", 0), make_exp("mlp", 1)]
    exps[1]["train"]["lr"] = 0.5
    datasets = [dataset_of(e) for e in exps]
    with pytest.raises(ValueError, match="more than its seed"):
        train_batched(exps, datasets, [paths_in(tmp_path / str(i)) for i in range(2)])


def test_rejects_mismatched_lengths_and_shared_paths(tmp_path):
    exps = [make_exp("mlp", 0), make_exp("mlp", 1)]
    datasets = [dataset_of(e) for e in exps]
    with pytest.raises(ValueError, match="one dataset and one TrainPaths"):
        train_batched(exps, datasets[:1], [paths_in(tmp_path / str(i)) for i in range(2)])
    with pytest.raises(ValueError, match="its own output paths"):
        train_batched(exps, datasets, [paths_in(tmp_path / "same")] * 2)


def test_pipeline_layout_keeps_scratch_beside_the_checkpoints(tmp_path):
    train_dir = tmp_path / "exp" / "train"
    p = TrainPaths.beside(train_dir / "checkpoints", train_dir / "metrics.csv", tmp_path / "f.json")
    assert p.checkpoints == train_dir / "checkpoints"
    assert p.metrics_csv == train_dir / "metrics.csv"
    assert p.metrics_json == tmp_path / "f.json"
    assert p.resume == train_dir / ".checkpoints.resume"
