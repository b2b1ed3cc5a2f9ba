"""Reliability: deterministic reruns, crash-safe training, bad input, bad artifacts,
concurrency and up-front refusal of work that cannot fit."""

from __future__ import annotations

import copy
import json
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
import yaml
from repo_utils import ROOT, TINY, copy_repo, dvc_clean, make_repo, result_files, run

from grokscope import dvcfiles
from grokscope.checkpoints import load_tensors
from grokscope.data import make_dataset
from grokscope.groups import make_group
from grokscope.io import write_parquet
from grokscope.params import ParamsError, load_params
from grokscope.train import TrainPaths, train

TINY_PARAMS = yaml.safe_load((ROOT / f"params/experiments/{TINY}.yaml").read_text())


def cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "grokscope", *args], cwd=cwd, text=True, capture_output=True
    )


def assert_one_line_error(done: subprocess.CompletedProcess, *needles: str) -> None:
    assert done.returncode != 0
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert "Traceback" not in done.stderr, done.stderr
    assert lines, "no error message"
    for needle in needles:
        assert needle in lines[-1], (needle, lines[-1])


# --- 1. determinism -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def built(tiny_build, tmp_path_factory) -> Path:
    return copy_repo(tiny_build, tmp_path_factory.mktemp("reliability") / "repo")


@pytest.mark.slow
def test_dvc_repro_force_reproduces_every_data_output(built: Path):
    """Everything but PNGs is byte-identical after `dvc repro --force`; PNG bytes depend on
    the headless browser's encoder, so they are reported, not required."""
    before = {k: p.read_bytes() for k, p in result_files(built).items()}
    lock_before = dvcfiles.locked(built)
    run("dvc repro --force", built)
    after = {k: p.read_bytes() for k, p in result_files(built).items()}
    assert before.keys() == after.keys()
    changed = sorted(k for k in before if before[k] != after[k])
    assert [k for k in changed if not k.endswith(".png")] == []
    print(
        f"PNG files whose bytes changed on re-render: {len(changed)} of "
        f"{sum(k.endswith('.png') for k in before)}"
    )

    # dvc.lock: every out that holds no PNG keeps its hash.
    lock_after = dvcfiles.locked(built)
    for name, stage in lock_before.items():
        if name.startswith(("figure", "report")):
            continue
        outs_before = {o["path"]: o["md5"] for o in stage.get("outs", [])}
        outs_after = {o["path"]: o["md5"] for o in lock_after[name].get("outs", [])}
        assert outs_before == outs_after, name
    assert dvc_clean(built)


# --- 2. crash safety ------------------------------------------------------------------------


def _train_cmd(exp: dict, data: Path, out: Path) -> list[str]:
    return [
        sys.executable, "-m", "grokscope", "train", "--inputs", f"data={data}",
        "--outputs", f"checkpoints={out / 'checkpoints'}", f"plot={out / 'metrics.csv'}",
        f"metrics={out / 'final.json'}", "--settings", json.dumps({"experiment": exp}),
        "--threads", "1",
    ]  # fmt: skip


def _resume_epoch(resume: Path) -> int:
    """Epoch of the resume state on disk (-1 if none yet or mid-replacement)."""
    try:
        return load_tensors(resume / "state.safetensors")[1]["epoch"]
    except Exception:  # noqa: BLE001 - absent or being replaced: just poll again
        return -1


def _temporary_files(resume: Path) -> bool:
    """Whether a write is in flight (or was cut short): ours and safetensors' temp files are
    the only dotfiles there."""
    return any(p.is_file() for p in resume.rglob(".*"))


def _kill_when(cmd: list[str], ready) -> subprocess.Popen:
    """Start ``cmd``, poll ``ready()`` every few ms, SIGKILL as soon as it is true."""
    proc = subprocess.Popen(cmd)
    while proc.poll() is None and not ready():
        time.sleep(0.002)
    if proc.poll() is None:
        proc.send_signal(signal.SIGKILL)
    proc.wait()
    return proc


def test_kill_9_at_random_points_then_resume_gives_identical_weights(tmp_path):
    exp = copy.deepcopy(TINY_PARAMS)
    # Many small checkpoints, so kills can land inside a checkpoint write.
    exp["train"].update(epochs=1200, checkpoint_every=10, eval_every=10)
    data = tmp_path / "pairs.parquet"
    write_parquet(data, make_dataset(make_group("cyclic", 41), 0.5, 0))
    reference, crashed = tmp_path / "reference", tmp_path / "crashed"
    subprocess.run(_train_cmd(exp, data, reference), check=True)

    # The train step's scratch, beside the checkpoints.
    resume, cmd = crashed / ".checkpoints.resume", _train_cmd(exp, data, crashed)
    # Kill after random epochs (seeded), then as soon as a temporary file appears: that is
    # the middle of a checkpoint write.
    targets = sorted(random.Random(0).sample(range(20, 1100), 4))
    kills = during_write = 0
    for target in targets:
        _kill_when(cmd, lambda t=target: _resume_epoch(resume) >= t)
        kills += 1
    for _ in range(5):
        start = max(_resume_epoch(resume), 0)
        _kill_when(cmd, lambda s=start: _resume_epoch(resume) > s and _temporary_files(resume))
        kills += 1
        during_write += _temporary_files(resume)
        # Outputs are published only at the end: nothing under an output name yet.
        assert not (crashed / "checkpoints").exists()
        assert not (crashed / "metrics.csv").exists() and not (crashed / "final.json").exists()
        if during_write >= 2:
            break
    assert during_write >= 1, "no kill landed inside a checkpoint write"
    subprocess.run(cmd, check=True)

    for name in ("metrics.csv", "final.json"):
        assert (crashed / name).read_bytes() == (reference / name).read_bytes()
    ref_ckpts = sorted(p.name for p in (reference / "checkpoints").iterdir())
    assert sorted(p.name for p in (crashed / "checkpoints").iterdir()) == ref_ckpts
    for name in ref_ckpts:
        assert (crashed / "checkpoints" / name).read_bytes() == (
            reference / "checkpoints" / name
        ).read_bytes(), name
    assert not resume.exists()
    print(f"{kills} kills, {during_write} during a checkpoint write")


# --- 3. bad input ---------------------------------------------------------------------------


def _leaves(data: dict, prefix: str = "") -> list[tuple[str, object]]:
    out = []
    for key, value in data.items():
        path = f"{prefix}{key}"
        out += _leaves(value, path + ".") if isinstance(value, dict) else [(path, value)]
    return out


def _set(data: dict, dotted: str, value) -> None:
    *parents, last = dotted.split(".")
    for key in parents:
        data = data[key]
    data[last] = value


def _delete(data: dict, dotted: str) -> None:
    *parents, last = dotted.split(".")
    for key in parents:
        data = data[key]
    del data[last]


def malformed_variants() -> list[tuple[str, str, str, str]]:
    """(id, params file relative path, file text, field the message must name)."""
    exp_file = f"params/experiments/{TINY}.yaml"
    variants = []

    def add(name: str, edit, field: str, file: str = exp_file, base=None) -> None:
        data = copy.deepcopy(base if base is not None else TINY_PARAMS)
        edit(data)
        variants.append((name, file, yaml.safe_dump(data, sort_keys=False), field))

    for path, value in _leaves(TINY_PARAMS):
        # wrong type
        wrong = "oops" if not isinstance(value, str) else 12
        add(f"type:{path}", lambda d, p=path, w=wrong: _set(d, p, w), path)
        # missing
        add(f"missing:{path}", lambda d, p=path: _delete(d, p), path)
        # negative numbers
        if isinstance(value, int | float) and not isinstance(value, bool):
            add(f"negative:{path}", lambda d, p=path: _set(d, p, -3), path)
    for section in ("", "group.", "data.", "model.", "train."):
        add(f"unknown-key:{section or 'top'}", lambda d, s=section: _set(d, f"{s}colour", 1),
            f"{section}colour")  # fmt: skip
    specials = [
        ("frac=0", "data.frac_train", 0.0), ("frac=1", "data.frac_train", 1.0),
        ("frac=1.5", "data.frac_train", 1.5), ("group=quaternion", "group.name", "quaternion"),
        ("kind=lstm", "model.kind", "lstm"), ("split=random", "data.split", "random"),
        ("device=tpu", "train.device", "tpu"), ("betas-short", "train.betas", [0.9]),
        ("betas-big", "train.betas", [0.9, 1.5]), ("epochs=0", "train.epochs", 0),
        ("hidden=0", "model.hidden_dim", 0), ("n=1", "group.n", 1),
        ("d_model-on-mlp", "model.d_model", 64), ("lr=0", "train.lr", 0),
    ]  # fmt: skip
    for name, path, value in specials:
        field = "model.d_model" if name == "d_model-on-mlp" else path
        add(name, lambda d, p=path, v=value: _set(d, p, v), field)
    add("huge:S_7", lambda d: d.update(group={"name": "symmetric", "n": 7}), "group.n")
    add("huge:S_10", lambda d: d.update(group={"name": "symmetric", "n": 10}), "group.n")
    add("huge:C_10^6", lambda d: d.update(group={"name": "cyclic", "n": 10**6}), "group.n")
    text = (ROOT / exp_file).read_text()
    variants += [
        ("yaml:unclosed", exp_file, text.replace("[0.9, 0.98]", "[0.9, 0.98"), "line"),
        ("yaml:indent", exp_file, "seed: 0\n  group: x\n", "line 2"),
        ("yaml:tab", exp_file, "seed:\t0\ngroup:\n\t- x\n", "line"),
        ("yaml:empty", exp_file, "", "(top level)"),
        ("yaml:list", exp_file, "- 1\n- 2\n", "(top level)"),
        ("suite:missing", "params/suite.yaml", "experiments: [no_such]\n", "experiments.0"),
        ("suite:empty", "params/suite.yaml", "experiments: []\n", "experiments"),
    ]
    analysis = yaml.safe_load((ROOT / "params/analysis.yaml").read_text())
    add("analysis:hook", lambda d: _set(d, "cache.hooks", ["no_such_hook"]), "cache.hooks",
        "params/analysis.yaml", analysis)  # fmt: skip
    add("analysis:threshold", lambda d: _set(d, "neurons.clean_threshold", 2),
        "neurons.clean_threshold", "params/analysis.yaml", analysis)  # fmt: skip
    add("analysis:rule", lambda d: _set(d, "key_irreps.rule", "top5"), "key_irreps.rule",
        "params/analysis.yaml", analysis)  # fmt: skip
    figures = yaml.safe_load((ROOT / "params/figures.yaml").read_text())
    add("figures:width", lambda d: _set(d, "width", "wide"), "width", "params/figures.yaml",
        figures)  # fmt: skip
    return variants


def test_enough_malformed_variants():
    assert len(malformed_variants()) >= 50


def _one_clear_line(done: subprocess.CompletedProcess, file: str, field: str) -> bool:
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    return (
        done.returncode != 0
        and len(lines) == 1
        and file in lines[0]
        and field in lines[0]
        and "Traceback" not in done.stderr + done.stdout
        and "Finished jobid" not in done.stdout + done.stderr
    )


def test_every_malformed_variant_is_refused_by_the_loader_with_one_line(tmp_path, monkeypatch):
    """Every variant through `load_params`, the function the Snakefile validates with before
    anything else (the test below runs a sample of them through real Snakemake)."""
    shutil.copytree(ROOT / "params", tmp_path / "params")
    monkeypatch.chdir(tmp_path)
    failures = []
    for name, file, text, field in malformed_variants():
        original = Path(file).read_text()
        Path(file).write_text(text)
        try:
            load_params("params")
            failures.append((name, "accepted"))
        except ParamsError as err:
            message = str(err)
            if "\n" in message or file not in message or field not in message:
                failures.append((name, message))
        finally:
            Path(file).write_text(original)
    assert failures == []


@pytest.mark.slow
def test_malformed_params_fail_before_any_job_with_one_line(built: Path):
    before = {k: p.stat().st_mtime_ns for k, p in result_files(built).items()}
    variants = malformed_variants()
    # Every kind of fault (wrong type, missing, negative, unknown key, YAML syntax, suite,
    # shared settings) through Snakemake; each variant through the loader above.
    other_files = ("yaml:", "suite:", "analysis:", "figures:")
    sample = variants[::8] + [v for v in variants if v[0].startswith(other_files)]
    failures = []
    for name, file, text, field in sample:
        target = built / file
        original = target.read_text()
        target.write_text(text)
        try:
            done = run("snakemake --cores 1", built, check=False)
        finally:
            target.write_text(original)
        if not _one_clear_line(done, file, field):
            failures.append((name, done.returncode, done.stderr[-500:]))
    assert failures == []
    after = {k: p.stat().st_mtime_ns for k, p in result_files(built).items()}
    assert after == before


# --- 4. bad artifacts -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("artifacts")
    exp = copy.deepcopy(TINY_PARAMS)
    exp["train"].update(epochs=30, checkpoint_every=10)
    dataset = make_dataset(make_group("cyclic", 41), 0.5, 0)
    write_parquet(out / "pairs.parquet", dataset)
    train(exp, dataset, TrainPaths(out / "ckpt", out / "m.csv", out / "m.json", out / ".r"), False)
    return out


def _copy_checkpoints(trained: Path, dest: Path) -> Path:
    shutil.copytree(trained / "ckpt", dest)
    return dest


def test_truncated_checkpoint_is_named(trained: Path, tmp_path):
    ckpts = _copy_checkpoints(trained, tmp_path / "ckpt")
    final = sorted(ckpts.glob("*.safetensors"))[-1]
    final.write_bytes(final.read_bytes()[:100])
    settings = json.dumps({"analysis": {"cache": {"hooks": ["neurons"], "checkpoints": "final"}}})
    done = cli("cache_activations", "--inputs", f"checkpoints={ckpts}", "--settings", settings,
               "--outputs", f"activations={tmp_path / 'acts'}")  # fmt: skip
    assert_one_line_error(done, final.name, "corrupt or truncated")
    assert not (tmp_path / "acts").exists()


def test_corrupt_sidecar_json_is_named(trained: Path, tmp_path):
    ckpts = _copy_checkpoints(trained, tmp_path / "ckpt")
    sidecar = sorted(ckpts.glob("*.json"))[-1]
    sidecar.write_text('{"epoch": 3')
    settings = json.dumps({"analysis": {"cache": {"hooks": ["neurons"], "checkpoints": "final"}}})
    done = cli("cache_activations", "--inputs", f"checkpoints={ckpts}", "--settings", settings,
               "--outputs", f"activations={tmp_path / 'acts'}")  # fmt: skip
    assert_one_line_error(done, sidecar.name, "not valid JSON")


def test_corrupt_parquet_is_named(trained: Path, tmp_path):
    bad = tmp_path / "pairs.parquet"
    bad.write_bytes((trained / "pairs.parquet").read_bytes()[:50])
    out = tmp_path / "out"
    done = cli("train", "--inputs", f"data={bad}", "--outputs", f"checkpoints={out / 'c'}",
               f"plot={out / 'm.csv'}", f"metrics={out / 'm.json'}",
               "--settings", json.dumps({"experiment": TINY_PARAMS}))  # fmt: skip
    assert_one_line_error(done, "pairs.parquet", "not a readable Parquet file")
    assert not out.exists()


def test_corrupt_metrics_json_is_named(trained: Path, tmp_path):
    acts = tmp_path / "acts"
    cache = {"hooks": ["neurons", "logits"], "checkpoints": "final"}
    settings = json.dumps({"analysis": {"cache": cache}})
    done = cli("cache_activations", "--inputs", f"checkpoints={trained / 'ckpt'}",
               "--settings", settings, "--outputs", f"activations={acts}")  # fmt: skip
    assert done.returncode == 0, done.stderr
    key = tmp_path / "key_irreps.json"
    key.write_text("not json at all")
    outputs = [f"directions={tmp_path / 'd.parquet'}", f"metrics={tmp_path / 'l.json'}",
               f"components={tmp_path / 'c.parquet'}"]  # fmt: skip
    done = cli("logits", "--inputs", f"activations={acts}", f"key_irreps={key}",
               "--outputs", *outputs)  # fmt: skip
    assert_one_line_error(done, "key_irreps.json", "not valid JSON")
    assert not (tmp_path / "d.parquet").exists()


class Payload:
    """Anything that is not a tensor or a plain container."""


def test_checkpoint_needing_arbitrary_unpickling_is_refused(tmp_path):
    path = tmp_path / "evil.pth"
    torch.save({"config": {"p": 41}, "state_dicts": [Payload()], "train_losses": [],
                "test_losses": []}, path)  # fmt: skip
    exp = {**TINY_PARAMS, "import": {"path": str(path), "format": "published_mod113"}}
    del exp["train"]
    done = cli("import_checkpoint", "--settings", json.dumps({"experiment": exp}),
               "--inputs", f"checkpoint={path}", f"data={tmp_path / 'x.parquet'}",
               "--outputs", f"checkpoints={tmp_path / 'c'}", f"plot={tmp_path / 'm.csv'}",
               f"metrics={tmp_path / 'm.json'}")  # fmt: skip
    assert_one_line_error(done, "evil.pth", "refused")
    assert not (tmp_path / "c").exists()


# --- 5. concurrency -------------------------------------------------------------------------


@pytest.mark.slow
def test_two_cores_respect_threads_and_match_one_core(tmp_path):
    experiments = [TINY, "tiny_d7"]
    targets = " ".join(f"results/{e}/train/final.json" for e in experiments)
    outputs = {}
    for cores in (1, 2):
        repo = make_repo(tmp_path / f"cores{cores}", experiments)
        run(f"snakemake --cores {cores} {targets}", repo)
        for exp in experiments:
            log = (repo / f"results/logs/train/{exp}.log").read_text()
            assert "torch threads: 1" in log  # the train rule's `threads: 1`
        outputs[cores] = {k: p.read_bytes() for k, p in result_files(repo).items()}
    assert outputs[1].keys() == outputs[2].keys() and outputs[1]
    assert [k for k in outputs[1] if outputs[1][k] != outputs[2][k]] == []


# --- 6. memory and disk ---------------------------------------------------------------------


def test_caching_every_activation_of_a_big_group_is_refused_with_an_estimate(tmp_path):
    params = tmp_path / "params"
    shutil.copytree(ROOT / "params", params)
    exp = copy.deepcopy(TINY_PARAMS)
    # S_6 (order 720): training fits, but caching every hook at all 201 checkpoints does not.
    exp["group"] = {"name": "symmetric", "n": 6}
    exp["model"] = {"kind": "mlp", "embed_dim": 32, "hidden_dim": 128}
    exp["train"].update(epochs=20000, checkpoint_every=100)
    (params / "experiments/big.yaml").write_text(yaml.safe_dump(exp))
    (params / "suite.yaml").write_text("experiments: [big]\n")
    analysis = yaml.safe_load((params / "analysis.yaml").read_text())
    hooks = ["hook_embed_a", "hook_embed_b", "hook_embed", "neurons", "neurons_pre", "logits"]
    analysis["cache"] = {"hooks": hooks, "checkpoints": "all"}
    (params / "analysis.yaml").write_text(yaml.safe_dump(analysis))
    with pytest.raises(
        ParamsError, match=r"analysis\.yaml: cache\.\w+: .* needs about [\d.,]+ GiB"
    ):
        load_params(params)

    exp["group"] = {"name": "symmetric", "n": 7}  # order 5040: even training is refused
    (params / "experiments/big.yaml").write_text(yaml.safe_dump(exp))
    with pytest.raises(ParamsError, match=r"big\.yaml: group\.n: .* needs about [\d.,]+ GiB"):
        load_params(params)
