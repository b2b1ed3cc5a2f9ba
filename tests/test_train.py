"""Training: grokking on the tiny experiment, checkpoints, determinism and crash-safe resume."""

from __future__ import annotations

import copy
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import torch
import yaml
from safetensors import SafetensorError, safe_open

from grokscope.checkpoints import (
    checkpoint_stem,
    list_checkpoints,
    load_checkpoint,
    load_tensors,
    save_checkpoint,
)
from grokscope.curves import GROKKED_ACC, METRIC_COLUMNS
from grokscope.data import make_dataset
from grokscope.groups import make_group
from grokscope.io import ArtifactError, write_parquet
from grokscope.models import build_model
from grokscope.process import IdleCores
from grokscope.schedule import checkpoint_epochs
from grokscope.train import (
    TrainPaths,
    evaluate,
    split_tensors,
    train,
    warmup_lr,
)

torch.set_num_threads(1)

ROOT = Path(__file__).resolve().parents[1]
TINY_PATH = ROOT / "params" / "experiments" / "tiny_c41.yaml"


def tiny_exp(**train_overrides):
    exp = yaml.safe_load(TINY_PATH.read_text())
    exp["train"]["device"] = "cpu"
    exp["train"].update(train_overrides)
    return exp


def dataset_of(exp):
    group = make_group(exp["group"]["name"], exp["group"]["n"])
    return make_dataset(group, exp["data"]["frac_train"], exp["seed"], exp["data"]["split"])


def paths_in(directory):
    d = Path(directory)
    return TrainPaths(d / "checkpoints", d / "metrics.csv", d / "metrics.json", d / "resume")


def file_bytes(directory):
    return {p.name: p.read_bytes() for p in sorted(Path(directory).iterdir())}


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    """The real tiny experiment (2,000 epochs), trained once for the module."""
    exp = tiny_exp()
    dataset = dataset_of(exp)
    paths = paths_in(tmp_path_factory.mktemp("tiny"))
    final = train(copy.deepcopy(exp), dataset, paths, progress=False)
    return exp, dataset, paths, final


# --- the full tiny run ---------------------------------------------------------------------


def test_tiny_groks(tiny_run):
    exp, _, paths, final = tiny_run
    assert final["epoch"] == exp["train"]["epochs"]
    # Grokked (100% not required: whether the last test pair or two are right at the end
    # moves with the last ulp of the loss: 99.8% or 100% across float64-faithful variants).
    assert final["test_acc"] >= GROKKED_ACC
    assert final["train_acc"] == 1.0
    assert final["memorised_epoch"] is not None
    assert final["grokked_epoch"] is not None
    assert final["memorised_epoch"] < final["grokked_epoch"] <= exp["train"]["epochs"]
    assert json.loads(paths.metrics_json.read_text()) == final


def test_metrics_csv(tiny_run):
    exp, _, paths, final = tiny_run
    table = pd.read_csv(paths.metrics_csv)
    assert list(table.columns) == METRIC_COLUMNS
    assert table["epoch"].iloc[0] == 0
    assert table["epoch"].is_monotonic_increasing and table["epoch"].is_unique
    cfg = exp["train"]
    saves = checkpoint_epochs(cfg["epochs"], cfg["checkpoint_every"], cfg["log_checkpoints"])
    evals = range(0, cfg["epochs"] + 1, cfg["eval_every"])
    assert table["epoch"].tolist() == sorted(set(evals) | set(saves))
    last = table.iloc[-1]
    assert last["test_acc"] == pytest.approx(final["test_acc"], rel=1e-8)  # CSV: 9 digits
    assert last["train_loss"] == pytest.approx(final["train_loss"], rel=1e-8)
    assert table["train_acc"].between(0, 1).all() and table["test_acc"].between(0, 1).all()
    # at initialisation the model is at chance
    assert table["test_acc"].iloc[0] < 0.2


def test_checkpoint_files(tiny_run):
    exp, _, paths, _ = tiny_run
    cfg = exp["train"]
    expected = checkpoint_epochs(cfg["epochs"], cfg["checkpoint_every"], cfg["log_checkpoints"])
    assert expected[:5] == [0, 1, 5, 22, 106]
    assert expected[-5:] == [500, 1000, 1500, 2000, 2500]
    names = sorted(p.name for p in paths.checkpoints.iterdir())
    assert names == sorted(
        f"{checkpoint_stem(e)}{ext}" for e in expected for ext in (".safetensors", ".json")
    )
    assert [p.name for p in list_checkpoints(paths.checkpoints)] == [
        f"{checkpoint_stem(e)}.safetensors" for e in expected
    ]
    table = pd.read_csv(paths.metrics_csv).set_index("epoch")
    for path in list_checkpoints(paths.checkpoints):
        state, sidecar = load_checkpoint(path)
        epoch = int(path.stem.split("_")[1])
        assert sidecar["epoch"] == epoch
        assert sidecar["params"] == exp
        assert sidecar["order"] == 41
        assert set(state) >= {"W_E_a", "W_E_b", "mlp.W", "W_U"}
        row = table.loc[epoch]
        for col in METRIC_COLUMNS[1:]:
            assert sidecar["metrics"][col] == pytest.approx(row[col], rel=1e-7, abs=1e-12)
    # scratch space is gone once the outputs are published
    assert not paths.resume.exists()


def test_epoch_zero_checkpoint_is_the_initialisation(tiny_run):
    exp, _, paths, _ = tiny_run
    state, _ = load_checkpoint(paths.checkpoints / "epoch_0000000.safetensors")
    fresh = build_model(exp["model"], 41, exp["seed"]).state_dict()
    assert set(state) == set(fresh)
    for k in fresh:
        assert torch.equal(state[k], fresh[k]), k


def test_final_checkpoint_reproduces_metrics(tiny_run):
    exp, dataset, paths, final = tiny_run
    final_epoch = exp["train"]["epochs"]
    state, sidecar = load_checkpoint(
        paths.checkpoints / f"{checkpoint_stem(final_epoch)}.safetensors"
    )
    model = build_model(sidecar["params"]["model"], sidecar["order"], 123)  # seed irrelevant
    model.load_state_dict(state)
    splits = split_tensors(dataset)
    test_loss, test_acc = evaluate(model, *splits["test"])
    train_loss, train_acc = evaluate(model, *splits["train"])
    assert test_acc == final["test_acc"] >= GROKKED_ACC
    assert train_acc == final["train_acc"]
    assert test_loss == pytest.approx(final["test_loss"], rel=1e-6)
    assert train_loss == pytest.approx(final["train_loss"], rel=1e-6)
    # the hooked forward agrees with the fast path used in training
    x, y = splits["test"]
    with torch.no_grad():
        assert torch.equal(model(x).argmax(1), model.fast_forward(x).argmax(1))
        assert (model(x).argmax(1) == y).double().mean() == test_acc


# --- checkpoint_epochs and warmup_lr -------------------------------------------------------


@pytest.mark.parametrize(
    ("epochs", "every", "n_log", "expected"),
    [
        (2000, 500, 4, [0, 1, 5, 22, 106, 500, 1000, 1500, 2000]),
        (1000, 100, 0, list(range(0, 1001, 100))),
        (1050, 500, 0, [0, 500, 1000, 1050]),
        (10, 5, 0, [0, 5, 10]),
        (1, 500, 4, [0, 1]),
    ],
)
def test_checkpoint_epochs_exact(epochs, every, n_log, expected):
    assert checkpoint_epochs(epochs, every, n_log) == expected


@pytest.mark.parametrize(
    ("epochs", "every", "n_log"),
    [(300, 500, 4), (20000, 1000, 8), (3000, 500, 4), (7, 3, 5), (100, 1, 3)],
)
def test_checkpoint_epochs_properties(epochs, every, n_log):
    got = checkpoint_epochs(epochs, every, n_log)
    assert got == sorted(set(got))
    assert all(isinstance(e, int) for e in got)
    assert got[0] == 0 and got[-1] == epochs
    assert all(0 <= e <= epochs for e in got)
    assert set(range(0, epochs + 1, every)) <= set(got)
    early = [e for e in got if 0 < e < min(every, epochs)]
    assert len(early) <= n_log
    if n_log and epochs > every > 10:
        assert 1 in got and len(early) >= 2


@pytest.mark.parametrize(("lr", "warmup"), [(1e-2, 10), (1e-3, 7), (0.5, 1)])
def test_warmup_lr(lr, warmup):
    assert warmup_lr(lr, 0, warmup) == 0
    assert warmup_lr(lr, warmup, warmup) == pytest.approx(lr)
    assert warmup_lr(lr, warmup * 10, warmup) == pytest.approx(lr)
    steps = [warmup_lr(lr, s, warmup) for s in range(warmup + 1)]
    assert steps == sorted(steps)
    if warmup > 1:
        assert 0 < warmup_lr(lr, 1, warmup) < lr
        assert warmup_lr(lr, warmup // 2, warmup) == pytest.approx(lr * (warmup // 2) / warmup)


def test_warmup_lr_disabled():
    assert warmup_lr(1e-3, 0, 0) == 1e-3
    assert warmup_lr(1e-3, 5, 0) == 1e-3


# --- determinism ---------------------------------------------------------------------------


def test_training_is_byte_deterministic(tmp_path):
    exp = tiny_exp(epochs=300, checkpoint_every=100, eval_every=50)
    dataset = dataset_of(exp)
    outputs = []
    for name in ("one", "two"):
        paths = paths_in(tmp_path / name)
        final = train(copy.deepcopy(exp), dataset, paths, progress=False)
        outputs.append(
            (
                final,
                file_bytes(paths.checkpoints),
                paths.metrics_csv.read_bytes(),
                paths.metrics_json.read_bytes(),
            )
        )
    (f1, ck1, csv1, js1), (f2, ck2, csv2, js2) = outputs
    assert f1 == f2
    assert sorted(ck1) == sorted(ck2)
    assert "epoch_0000300.safetensors" in ck1
    for name in ck1:
        assert ck1[name] == ck2[name], name
    assert csv1 == csv2
    assert js1 == js2


def test_different_seed_gives_different_run(tmp_path):
    exp = tiny_exp(epochs=20, checkpoint_every=10, eval_every=10, log_checkpoints=0)
    finals = []
    for seed in (0, 1):
        e = copy.deepcopy(exp)
        e["seed"] = seed
        paths = paths_in(tmp_path / str(seed))
        train(e, dataset_of(e), paths, progress=False)
        finals.append((paths.checkpoints / "epoch_0000020.safetensors").read_bytes())
    assert finals[0] != finals[1]


# --- resume after SIGKILL ------------------------------------------------------------------


def _train_cmd(exp, data, out):
    out = Path(out)
    return [
        sys.executable,
        "-m",
        "grokscope",
        "train",
        "--inputs",
        f"data={data}",
        "--outputs",
        f"checkpoints={out / 'checkpoints'}",
        f"plot={out / 'metrics.csv'}",
        f"metrics={out / 'metrics.json'}",
        "--settings",
        json.dumps({"experiment": exp}),
        "--threads",
        "1",
    ]


def _env():
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "workflow"), env.get("PYTHONPATH", "")])
    return env


def _state_epoch(path):
    """Epoch recorded in a resume state file, or -1 while there is none."""
    try:
        with safe_open(str(path), framework="pt") as f:
            return json.loads(f.metadata()["grokscope"])["epoch"]
    except (OSError, SafetensorError, KeyError, ValueError):
        return -1


def test_resume_after_kill_is_byte_identical(tmp_path):
    exp = tiny_exp(epochs=3000, checkpoint_every=500)
    dataset = dataset_of(exp)
    data = tmp_path / "pairs.parquet"
    write_parquet(data, dataset, {"seed": exp["seed"]})

    # 1. start, wait for the epoch-1000 checkpoint and its resume state, then SIGKILL
    out = tmp_path / "killed"
    resume = out / ".checkpoints.resume"  # the train step's scratch, beside the checkpoints
    proc = subprocess.Popen(
        _train_cmd(exp, data, out),
        env=_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 180
    try:
        # Kill inside the training loop, after the epoch-1000 checkpoint, its sidecar and the
        # resume state are all written. (A kill during a write is the stale-temp-file case
        # below.)
        while _state_epoch(resume / "state.safetensors") < 1000:
            assert proc.poll() is None, f"training ended early: {proc.stderr.read().decode()}"
            assert time.monotonic() < deadline, "no epoch-1000 resume state within 180 s"
            time.sleep(0.01)
    finally:
        proc.kill()
        proc.wait()
        proc.stderr.close()
    assert proc.returncode == -9
    # nothing is published before the run ends
    assert not (out / "checkpoints").exists()
    assert not (out / "metrics.csv").exists()
    assert not (out / "metrics.json").exists()
    _, meta = load_tensors(resume / "state.safetensors")
    assert 1000 <= meta["epoch"] < 3000
    assert (resume / "checkpoints" / "epoch_0001000.safetensors").exists()
    assert (resume / "checkpoints" / "epoch_0001000.json").exists()
    epoch0 = resume / "checkpoints" / "epoch_0000000.safetensors"
    epoch0_inode = epoch0.stat().st_ino

    # 2. the same command again runs to completion
    done = subprocess.run(_train_cmd(exp, data, out), env=_env(), capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert not resume.exists()
    # resumed, not restarted: the epoch-0 file written before the kill is the published one
    assert (out / "checkpoints" / "epoch_0000000.safetensors").stat().st_ino == epoch0_inode

    # 3. an uninterrupted run elsewhere gives the same bytes
    ref = paths_in(tmp_path / "reference")
    train(copy.deepcopy(exp), dataset, ref, progress=False)
    got, want = file_bytes(out / "checkpoints"), file_bytes(ref.checkpoints)
    assert sorted(got) == sorted(want), set(got) ^ set(want)
    assert got["epoch_0003000.safetensors"] == want["epoch_0003000.safetensors"]
    for name in want:
        assert got[name] == want[name], name
    assert (out / "metrics.csv").read_bytes() == ref.metrics_csv.read_bytes()
    assert (out / "metrics.json").read_bytes() == ref.metrics_json.read_bytes()


def test_stale_temp_file_not_published(tmp_path):
    exp = tiny_exp(epochs=10, checkpoint_every=5, eval_every=5, log_checkpoints=0)
    paths = paths_in(tmp_path)
    # what a kill during the first checkpoint write leaves behind (no state file yet)
    scratch = paths.resume / "checkpoints"
    scratch.mkdir(parents=True)
    (scratch / ".epoch_0000000.safetensors.abc123.tmp").write_bytes(b"partial")
    (scratch / ".tmpQSNUqI").write_bytes(b"partial")  # safetensors' own temporary file
    train(exp, dataset_of(exp), paths, progress=False)
    assert sorted(p.name for p in paths.checkpoints.iterdir()) == [
        f"epoch_{e:07d}.{ext}" for e in (0, 5, 10) for ext in ("json", "safetensors")
    ]


# --- corrupt checkpoints -------------------------------------------------------------------


@pytest.fixture
def saved_checkpoint(tmp_path):
    state = build_model({"kind": "mlp", "embed_dim": 8, "hidden_dim": 16}, 7, 0).state_dict()
    path = save_checkpoint(tmp_path, 42, state, {"params": {"x": 1}})
    return path, state


def test_checkpoint_round_trip(saved_checkpoint):
    path, state = saved_checkpoint
    loaded, sidecar = load_checkpoint(path)
    assert sidecar["epoch"] == 42 and sidecar["params"] == {"x": 1}
    assert set(loaded) == set(state)
    for k in state:
        assert torch.equal(loaded[k], state[k])
    assert sorted(p.name for p in path.parent.iterdir()) == [
        "epoch_0000042.json",
        "epoch_0000042.safetensors",
    ]


@pytest.mark.parametrize("keep", [0, 7, 100, 0.5, -1])
def test_truncated_checkpoint_raises(saved_checkpoint, keep):
    path, _ = saved_checkpoint
    data = path.read_bytes()
    cut = int(len(data) * keep) if isinstance(keep, float) else keep % len(data)
    path.write_bytes(data[:cut])
    with pytest.raises(ArtifactError) as info:
        load_checkpoint(path)
    assert str(path) in str(info.value)


def test_garbage_checkpoint_raises(saved_checkpoint):
    path, _ = saved_checkpoint
    path.write_bytes(b"\x00\x01garbage" * 50)
    with pytest.raises(ArtifactError, match=path.name):
        load_checkpoint(path)


def test_missing_checkpoint_or_sidecar_raises(saved_checkpoint):
    path, _ = saved_checkpoint
    with pytest.raises(ArtifactError, match="epoch_0000099"):
        load_checkpoint(path.with_name("epoch_0000099.safetensors"))
    path.with_suffix(".json").unlink()
    with pytest.raises(ArtifactError, match="epoch_0000042.json"):
        load_checkpoint(path)


# --- memory -------------------------------------------------------------------------------

MALLOC_PROBE = """
import ctypes, sys
import torch
from grokscope.process import keep_freed_memory

class Mallinfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in (
        "arena", "ordblks", "smblks", "hblks", "hblkhd",
        "usmblks", "fsmblks", "uordblks", "fordblks", "keepcost")]

libc = ctypes.CDLL("libc.so.6")
libc.mallinfo2.restype = Mallinfo2
applied = keep_freed_memory() if sys.argv[1] == "keep" else False
before = libc.mallinfo2()
buffer = torch.ones(4 << 20)  # 16 MiB, written: a step's activation buffer, only bigger
mapped = libc.mallinfo2().hblkhd - before.hblkhd
del buffer
kept = libc.mallinfo2().fordblks - before.fordblks
print(applied, mapped, kept)
"""


@pytest.mark.skipif(
    not sys.platform.startswith("linux") or os.confstr("CS_GNU_LIBC_VERSION") is None,
    reason="keep_freed_memory tunes glibc's malloc; this platform has no glibc",
)
def test_keep_freed_memory_keeps_a_freed_buffer_in_the_heap():
    # Fresh processes: malloc's adaptive thresholds depend on what a process did before.
    def probe(mode):
        out = subprocess.run(
            [sys.executable, "-c", MALLOC_PROBE, mode], capture_output=True, text=True, check=True
        ).stdout.split()
        return out[0] == "True", int(out[1]), int(out[2])

    mib = 1 << 20
    applied, mapped, kept = probe("default")
    assert mapped >= 16 * mib and kept < mib  # glibc's default: mmap'd, returned on free
    applied, mapped, kept = probe("keep")
    assert applied and mapped == 0 and kept >= 15 * mib  # on the heap, kept for the next step


@pytest.mark.parametrize("kind", ["mlp", "transformer"])
def test_training_does_not_depend_on_the_thread_count(kind):
    # What lets a training step use idle cores mid-run (grokscope.process.IdleCores).
    spec = {
        "mlp": {"kind": "mlp", "embed_dim": 32, "hidden_dim": 64},
        "transformer": {
            "kind": "transformer",
            "d_model": 64,
            "n_heads": 4,
            "d_head": 16,
            "d_mlp": 256,
        },  # fmt: skip
    }[kind]
    exp = tiny_exp(epochs=40)
    exp["model"] = spec
    x, y = split_tensors(dataset_of(exp))["train"]
    before = torch.get_num_threads()
    weights = []
    try:
        for threads in (1, 2):
            torch.set_num_threads(threads)
            model = build_model(spec, 41, 0)
            opt = torch.optim.AdamW(model.parameters(), lr=1e-2, weight_decay=1.0, fused=True)
            for _ in range(20):
                model.fast_loss(x, y).backward()
                opt.step()
                opt.zero_grad()
            weights.append({k: v.clone() for k, v in model.state_dict().items()})
    finally:
        torch.set_num_threads(before)
    assert all(torch.equal(weights[0][k], weights[1][k]) for k in weights[0])


def test_idle_cores_wait_for_the_machine_to_settle():
    # grokscope.process.IdleCores on a planted timeline, an epoch every 0.1 s: another step
    # runs until t = 2.2 but for a gap seen at the look at t = 1 (Snakemake between two
    # jobs), none from then on until one starts at t = 9.5.
    now = 0.0
    looks, applied = [], []

    def others() -> int:
        looks.append(now)
        return int((now < 2.2 and now != 1.0) or now >= 9.5)

    idle = IdleCores(1, limit=2, clock=lambda: now, others=others, apply=applied.append)
    threads = {}
    for tenth in range(120):
        now = tenth / 10
        idle()
        threads[tenth] = idle.current
    assert looks == [float(second) for second in range(12)]  # once a second, not every epoch
    assert applied == [2, 1]  # the gap at t = 1 raised nothing
    # Free at the looks from t = 3 on: raised at t = 6, lowered at the first look after 9.5.
    assert threads[59] == 1 and threads[60] == 2 and threads[99] == 2 and threads[100] == 1


def test_idle_cores_see_running_steps_only():
    # The machine scan behind IdleCores, on real processes stopped as soon as they start (so
    # that they are still there when it looks): a `python -m grokscope` process is a step;
    # one that only mentions grokscope in its arguments is not.
    commands = {
        "step": [sys.executable, "-m", "grokscope", "--help"],
        "not a step": [sys.executable, "-c", "import time; time.sleep(60)", "-m", "grokscope"],
    }
    children = {}
    try:
        for name, command in commands.items():
            children[name] = subprocess.Popen(command, env=_env(), stdout=subprocess.DEVNULL)
            os.kill(children[name].pid, signal.SIGSTOP)
        pids = IdleCores.step_pids()
        assert children["step"].pid in pids and children["not a step"].pid not in pids
    finally:
        for child in children.values():
            child.kill()
            child.wait()
