"""Benchmark: training speed of the notebook's loop, a plain optimised loop and grokscope's.

Measured side by side in one run on this machine (2 torch threads unless ``--threads``), for the
D_53 MLP (embed 256, hidden 128, 40% train: 4,494 pairs; ``params/experiments/mlp_d53.yaml``)
and the mod-113 transformer (d_model 128, 4 heads of 32, d_mlp 512, 30% train: 3,830 pairs).
The variants:

- *naive*: the training loop of seed ``000_…`` verbatim: readable forward on the train set,
  ``loss.backward()``, ``step()``, ``zero_grad()``, ``train_loss.item()``, then under
  ``torch.inference_mode()`` the test forward, test loss ``.item()`` and train/test accuracy
  ``.item()`` EVERY epoch; ``AdamW(lr, weight_decay)`` with torch's defaults (single-tensor
  on CPU). The MLP is the notebook's own ``OneLayerMLP`` (``W_E_a[x]`` gathers,
  ``torch.hstack``), written inline below with grokscope's initial weights; the transformer is
  grokscope's readable :meth:`grokscope.models.Transformer.forward`.
- *plain*: the same readable forward (grokscope's ``model(x)``, which indexes with
  ``F.embedding``), foreach AdamW, no per-epoch host sync or test evaluation; train and test
  loss/accuracy (with ``.item()``) every 100 epochs under ``no_grad``.
- *ours*: the loop of :func:`grokscope.train.train`, built from its own parts
  (``fast_loss``: the cross-entropy resolved as in float64, where naive and plain use
  float32's; for the MLP on the CPU a fused loss with a hand-written backward,
  ``make_optimizer``: fused AdamW, ``warmup_lr``, ``evaluate`` on train and test every 100
  epochs), without the checkpoint writes (one-off file I/O that
  would dominate a short measurement on a busy disk).
- *batched*: :func:`grokscope.batched.train_batched` on K = 1, 4, 8 seeds of the D_53 MLP,
  timed end to end (including its epoch-0 and final checkpoints); reported as per-seed
  epochs/s (K · epochs / seconds), relative to K = 1 and to the single-seed *ours* loop.

On a machine loaded by other jobs (load average above the core count) two-thread numbers are
not meaningful: every op ends in a barrier of its 2 threads, and when one is descheduled the
other waits a scheduler slice, which costs a loop of many small ops (ours) far more than a
loop of a few big ones (naive). The script warns; ``--threads 1`` gives fair ratios then.

Each variant runs a fixed number of epochs (MLP: naive 200, plain 300, ours 500;
transformer: 30, 40, 60; batched: 100) after a few warm-up epochs, cut to what fits in
``--cap`` seconds on a loaded machine (the counts used are printed). The loops are interleaved
over ``--rounds`` rounds and each variant's best round is reported (other jobs share the
machine; the best round is the least disturbed one). Ratios are to the naive loop.

The whole script runs with :func:`grokscope.process.keep_freed_memory` applied, as
grokscope's training loop does (without it glibc's malloc puts some processes on a slow path that
page-faults the step's buffers every epoch; it applies to every loop measured here alike).

FLOP count (for "GFLOP/s"): the matmul FLOPs of one ``fast_forward`` on the train split,
counted by ``torch.utils.flop_counter.FlopCounterMode`` (2·m·k·n per (m×k)·(k×n) product,
einsums included via their bmm), times 3 for forward + backward (each matmul's backward is two
matmuls of the same size; checked: FlopCounterMode over forward + backward gives 3.0×).
Elementwise ops, softmax, gathers, AdamW and the transformer's sparse products (its
attention read as tables, ``kernels.WeightedRowsMLP``: about 0.13 GFLOP/epoch) are not
counted. That is 408 MFLOP/epoch for the D_53 MLP and 1.57 GFLOP/epoch for the transformer
(3.45 before the tables). It is compared with the rate of a 2048³
float32 matmul measured in the same run (best of a few repetitions, before and after).

Usage (from the project root, venv active; 1 to 3 min on a 2-core machine):

    python benchmarks/training_speed.py [--rounds 3] [--scale 1.0] [--cap 7] [--threads 2]
"""

from __future__ import annotations

import argparse
import copy
import math
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import torch
import torch.nn.functional as F
import yaml
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from grokscope.batched import train_batched
from grokscope.data import make_dataset
from grokscope.groups import make_group
from grokscope.models import OneLayerMLP, build_model
from grokscope.process import keep_freed_memory
from grokscope.train import (
    TrainPaths,
    evaluate,
    make_optimizer,
    run_epochs,
    split_tensors,
)

ROOT = Path(__file__).resolve().parents[1]
THREADS = 2
EVAL_EVERY = 100


# --- the experiments -----------------------------------------------------------------------


def experiment(name: str, frac_train: float, seed: int = 0) -> dict[str, Any]:
    """Params of ``params/experiments/<name>.yaml`` on the CPU with the given train fraction."""
    exp = yaml.safe_load((ROOT / "params" / "experiments" / f"{name}.yaml").read_text())
    exp["seed"] = seed
    exp["data"]["frac_train"] = frac_train
    exp["train"]["device"] = "cpu"
    return exp


def dataset_of(exp: dict[str, Any]) -> pd.DataFrame:
    group = make_group(exp["group"]["name"], exp["group"]["n"])
    return make_dataset(group, exp["data"]["frac_train"], exp["seed"], exp["data"]["split"])


def order_of(dataset: pd.DataFrame) -> int:
    return int(dataset["c"].max()) + 1


# --- the notebook's model and loop ---------------------------------------------------------


class NotebookOneLayerMLP(nn.Module):
    """Seed ``000``'s OneLayerMLP forward (``W[idx]`` gathers, ``hstack``), without hooks."""

    def __init__(self, reference: OneLayerMLP) -> None:
        super().__init__()
        self.W_E_a = nn.Parameter(reference.W_E_a.detach().clone())  # (order, embed)
        self.W_E_b = nn.Parameter(reference.W_E_b.detach().clone())  # (order, embed)
        self.W = nn.Parameter(reference.mlp.W.detach().clone())  # (2·embed, hidden)
        self.W_U = nn.Parameter(reference.W_U.detach().clone())  # (hidden, order)
        self.relu = nn.ReLU()

    def forward(self, data: torch.Tensor) -> torch.Tensor:
        x = data[:, 0]  # (batch,)
        x_embed = self.W_E_a[x]  # (batch, embed)
        y = data[:, 1]
        y_embed = self.W_E_b[y]  # (batch, embed)
        embed_stack = torch.hstack((x_embed, y_embed))  # (batch, 2·embed)
        hidden = self.relu(embed_stack @ self.W)  # (batch, hidden)
        return hidden @ self.W_U  # (batch, order)


Loop = Callable[[int], None]


def naive_loop(model: nn.Module, exp: dict[str, Any], dataset: pd.DataFrame) -> Loop:
    """``run(epochs)``: the notebook's loop (eval + ``.item()`` every epoch) on ``model``."""
    splits = split_tensors(dataset)
    (train_data, train_labels), (test_data, test_labels) = splits["train"], splits["test"]
    cfg = exp["train"]
    optimizer = torch.optim.AdamW(
        model.parameters(), lr=cfg["lr"], weight_decay=cfg["weight_decay"]
    )
    log: dict[str, list[float]] = {
        "train_loss": [],
        "test_loss": [],
        "train_acc": [],
        "test_acc": [],
    }

    def run(epochs: int) -> None:
        for _ in range(epochs):
            train_logits = model(train_data)
            train_loss = F.cross_entropy(train_logits, train_labels)
            train_loss.backward()
            optimizer.step()
            optimizer.zero_grad()
            log["train_loss"].append(train_loss.item())
            with torch.inference_mode():
                test_logits = model(test_data)
                test_loss = F.cross_entropy(test_logits, test_labels)
                log["test_loss"].append(test_loss.item())
                train_acc = (train_logits.argmax(1) == train_labels).sum() / len(train_labels)
                test_acc = (test_logits.argmax(1) == test_labels).sum() / len(test_labels)
                log["train_acc"].append(train_acc.item())
                log["test_acc"].append(test_acc.item())

    return run


def plain_loop(model: nn.Module, exp: dict[str, Any], dataset: pd.DataFrame) -> Loop:
    """``run(epochs)``: readable forward, foreach AdamW, evaluation every 100 epochs only."""
    splits = split_tensors(dataset)
    (train_x, train_y), (test_x, test_y) = splits["train"], splits["test"]
    cfg = exp["train"]
    optimizer = torch.optim.AdamW(
        model.parameters(),
        lr=cfg["lr"],
        betas=tuple(cfg["betas"]),
        weight_decay=cfg["weight_decay"],
        foreach=True,
    )
    state = {"epoch": 0}
    log: list[tuple[float, ...]] = []

    def run(epochs: int) -> None:
        for _ in range(epochs):
            loss = F.cross_entropy(model(train_x), train_y)
            loss.backward()
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
            state["epoch"] += 1
            if state["epoch"] % EVAL_EVERY == 0:
                with torch.no_grad():
                    row = []
                    for x, y in ((train_x, train_y), (test_x, test_y)):
                        logits = model(x)
                        row += [
                            F.cross_entropy(logits, y).item(),
                            (logits.argmax(1) == y).float().mean().item(),
                        ]
                    log.append(tuple(row))

    return run


def short_run(exp: dict[str, Any], epochs: int) -> dict[str, Any]:
    """``exp`` shortened to ``epochs``, evaluating every 100, checkpoints at 0 and the end."""
    exp = copy.deepcopy(exp)
    exp["train"].update(
        epochs=epochs, eval_every=EVAL_EVERY, checkpoint_every=epochs, log_checkpoints=0
    )
    return exp


def paths_in(directory: Path) -> TrainPaths:
    train_dir = directory / "train"  # the pipeline's layout
    return TrainPaths.beside(
        train_dir / "checkpoints", train_dir / "metrics.csv", train_dir / "final.json"
    )


def ours_loop(exp: dict[str, Any], dataset: pd.DataFrame) -> Loop:
    """``run(epochs)``: :func:`grokscope.train.train`'s loop, built from its own parts.

    The loop of ``train.train`` (:func:`grokscope.train.run_epochs`: warm-up lr, a step on
    ``fast_loss`` with the optimizer from :func:`grokscope.train.make_optimizer`,
    :func:`grokscope.train.evaluate` on train and test every ``eval_every`` epochs), without
    the checkpoint writes, so that a short measurement is not dominated by one-off file I/O.
    """
    cfg = {**exp["train"], "eval_every": EVAL_EVERY}
    splits = split_tensors(dataset)
    (train_x, train_y), (test_x, test_y) = splits["train"], splits["test"]
    model = build_model(exp["model"], order_of(dataset), exp["seed"])
    opt = make_optimizer(model.parameters(), cfg)
    state = {"epoch": 0}
    rows: list[tuple[float, ...]] = []

    def loss() -> torch.Tensor:
        return model.fast_loss(train_x, train_y)

    def record(epoch: int) -> None:
        rows.append(evaluate(model, train_x, train_y) + evaluate(model, test_x, test_y))

    def run(epochs: int) -> None:
        start = state["epoch"]
        run_epochs(opt, cfg, loss, record, range(start, start + epochs))
        state["epoch"] = start + epochs

    return run


def batched_loop(exp: dict[str, Any], k: int, scratch: Path) -> Loop:
    """``run(epochs)``: one call of :func:`grokscope.batched.train_batched` on seeds 0..k-1."""
    exps = [{**exp, "seed": seed} for seed in range(k)]
    datasets = [dataset_of(e) for e in exps]
    count = iter(range(10**6))

    def run(epochs: int) -> None:
        n = next(count)
        paths = [paths_in(scratch / f"batched_{k}_{n}_{s}") for s in range(k)]
        train_batched([short_run(e, epochs) for e in exps], datasets, paths, progress=False)

    return run


# --- measuring -----------------------------------------------------------------------------


def timed(run: Loop, epochs: int) -> float:
    """Seconds to run ``epochs`` epochs."""
    start = time.perf_counter()
    run(epochs)
    return time.perf_counter() - start


class Bench:
    """One variant: ``epochs`` per measurement, capped at about ``cap`` seconds.

    The cap keeps the whole script within its time budget when other jobs slow the machine
    down: the epoch count is cut to what the previous measurement (or the warm-up) says fits
    in ``cap`` seconds, never below ``min_epochs``.
    """

    def __init__(self, run: Loop, epochs: int, cap: float, scale: int = 1) -> None:
        self.run, self.epochs, self.cap, self.scale = run, epochs, cap, scale
        self.rate = math.inf  # epochs/s of the last measurement
        self.best = 0.0  # best epochs/s × scale
        self.measured: list[int] = []  # epoch counts measured

    def warm_up(self, epochs: int = 3) -> None:
        self.rate = epochs / timed(self.run, epochs)

    def measure(self, min_epochs: int = 5) -> None:
        epochs = max(min(self.epochs, int(self.rate * self.cap)), min_epochs)
        self.rate = epochs / timed(self.run, epochs)
        self.best = max(self.best, self.rate * self.scale)
        self.measured.append(epochs)


def matmul_gflops(size: int = 2048, reps: int = 4) -> float:
    """Best GFLOP/s of a ``(size, size) @ (size, size)`` float32 matmul."""
    a, b = torch.randn(size, size), torch.randn(size, size)
    a @ b  # warm-up
    best = math.inf
    for _ in range(reps):
        start = time.perf_counter()
        a @ b
        best = min(best, time.perf_counter() - start)
    return 2 * size**3 / best / 1e9


def train_flops(exp: dict[str, Any], dataset: pd.DataFrame) -> float:
    """Matmul FLOPs of one training epoch of ``fast_forward``: 3 × the forward's."""
    model = build_model(exp["model"], order_of(dataset), exp["seed"])
    x, _ = split_tensors(dataset)["train"]
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        model.fast_forward(x)
    return 3.0 * counter.get_total_flops()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds per variant")
    parser.add_argument(
        "--scale", type=float, default=1.0, help="multiply every epoch count (0.3 = quick look)"
    )
    parser.add_argument(
        "--threads", type=int, default=THREADS, help="torch threads (the targets assume 2)"
    )
    parser.add_argument(
        "--cap", type=float, default=7.0, help="seconds per measurement at most (about)"
    )
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    kept = keep_freed_memory()  # as the CLI does for a step; here before every loop, naive ones too

    def n(epochs: int) -> int:
        return max(1, round(epochs * args.scale))

    wall = time.perf_counter()
    load_before = os.getloadavg()[0]
    peak = matmul_gflops()

    cases = {
        "D_53 MLP": (experiment("mlp_d53", 0.4), {"naive": 200, "plain": 300, "ours": 500}),
        "C_113 transformer": (
            experiment("transformer_c113", 0.3),
            {"naive": 30, "plain": 40, "ours": 60},
        ),
    }
    flops: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        scratch = Path(tmp)
        benches: dict[str, dict[str, Bench]] = {}
        for name, (exp, epochs) in cases.items():
            dataset = dataset_of(exp)
            reference = build_model(exp["model"], order_of(dataset), exp["seed"])
            notebook = (
                NotebookOneLayerMLP(reference)
                if exp["model"]["kind"] == "mlp"
                else copy.deepcopy(reference)
            )
            loops = {
                "naive": naive_loop(notebook, exp, dataset),
                "plain": plain_loop(reference, exp, dataset),
                "ours": ours_loop(exp, dataset),
            }
            benches[name] = {v: Bench(loops[v], n(epochs[v]), args.cap) for v in loops}
            flops[name] = train_flops(exp, dataset)
            for bench in benches[name].values():
                bench.warm_up()
        for _ in range(args.rounds):
            for variants in benches.values():
                for bench in variants.values():
                    bench.measure()

        mlp_exp = cases["D_53 MLP"][0]
        batched = {
            k: Bench(batched_loop(mlp_exp, k, scratch), n(100), args.cap, scale=k)
            for k in (1, 4, 8)
        }
        for bench in batched.values():
            bench.warm_up(2)
        for _ in range(args.rounds):
            for bench in batched.values():
                bench.measure(min_epochs=20)
    peak = max(peak, matmul_gflops())

    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} threads; load average (1 min) "
        f"{load_before:.2f} before, {os.getloadavg()[0]:.2f} after; best of {args.rounds} rounds;"
        f" malloc keeps freed memory (keep_freed_memory): {'yes' if kept else 'no (not glibc)'}"
    )
    if max(load_before, os.getloadavg()[0]) > (os.cpu_count() or 1):
        print(
            f"WARNING: load average above the {os.cpu_count()} cores: other jobs share the machine"
        )
        if args.threads > 1:
            print(
                "  With several threads each op's thread barrier waits for a descheduled thread,"
                " which slows loops of many small ops (ours) far more than a few big ones"
                " (naive): the ratios below understate ours. Rerun idle, or with --threads 1."
            )
    print(f"float32 matmul 2048³: {peak:.0f} GFLOP/s\n")
    print(
        f"{'model':<18} {'loop':<6} {'epochs/s':>9} {'ms/epoch':>9} {'× naive':>8} "
        f"{'GFLOP/s':>8} {'% matmul':>9}"
    )
    for name, variants in benches.items():
        naive = variants["naive"].best
        for variant, bench in variants.items():
            rate, extra = bench.best, ""
            if variant == "ours":
                achieved = flops[name] * rate / 1e9
                extra = f" {achieved:>8.1f} {100 * achieved / peak:>8.0f}%"
            print(
                f"{name:<18} {variant:<6} {rate:>9.1f} {1000 / rate:>9.1f} "
                f"{rate / naive:>7.1f}×{extra}"
            )
    for name, count in flops.items():
        print(f"  ({name}: {count / 1e6:.0f} MFLOP per training epoch, 3 × forward matmuls)")

    single, ours = batched[1].best, benches["D_53 MLP"]["ours"].best
    print("\nbatched trainer, D_53 MLP (K seeds as one stacked model):")
    print(f"{'K':>3} {'per-seed epochs/s':>18} {'vs K = 1':>9} {'vs ours (1 seed)':>17}")
    for k, bench in batched.items():
        print(
            f"{k:>3} {bench.best:>18.1f} {bench.best / single:>8.2f}× {bench.best / ours:>16.2f}×"
        )
    epochs = {f"{name} {v}": b.measured for name, vs in benches.items() for v, b in vs.items()} | {
        f"batched K={k}": b.measured for k, b in batched.items()
    }
    print("\nepochs per measurement: " + "; ".join(f"{k} {v}" for k, v in epochs.items()))
    print(f"\ntotal wall time {time.perf_counter() - wall:.0f} s")


if __name__ == "__main__":
    main()
