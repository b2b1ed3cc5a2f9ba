"""Validation of params/: every malformed file is one ParamsError line naming file and field."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import yaml

from grokscope.budgets import training_bytes
from grokscope.params import ParamsError, load_experiment, load_params

torch.set_num_threads(1)

ROOT = Path(__file__).resolve().parents[1]
PARAMS = ROOT / "params"
TINY = "tiny_c41"


@pytest.fixture
def params_dir(tmp_path):
    """A private copy of the real params/ directory."""
    dest = tmp_path / "params"
    shutil.copytree(PARAMS, dest)
    return dest


def tiny(params_dir):
    return params_dir / "experiments" / f"{TINY}.yaml"


def load_tiny():
    return yaml.safe_load((PARAMS / "experiments" / f"{TINY}.yaml").read_text())


def set_in(data, dotted, value):
    *parents, last = dotted.split(".")
    for key in parents:
        data = data[key]
    data[last] = value


def drop(data, dotted):
    *parents, last = dotted.split(".")
    for key in parents:
        data = data[key]
    del data[last]


def test_real_params_load():
    p = load_params(PARAMS)
    assert {"suite", "figures", "experiments"} <= set(p)
    assert TINY in p["experiments"]
    assert p["experiments"][TINY]["group"] == {"name": "cyclic", "n": 41}
    for name in p["suite"]["experiments"]:
        assert name in p["experiments"]


def test_copied_params_load(params_dir):
    assert load_params(params_dir)["experiments"][TINY]["model"]["kind"] == "mlp"


# Each variant edits the parsed tiny_c41.yaml; ``field`` must be named in the message and
# ``extra`` (if any) must also appear.
def _variants():
    v = []

    def add(id_, edit, field, extra=None, marks=()):
        v.append(pytest.param(edit, field, extra, id=id_, marks=marks))

    add("lr_string", lambda d: set_in(d, "train.lr", "fast"), "train.lr")
    add("n_float", lambda d: set_in(d, "group.n", 4.5), "group.n")
    add("n_string", lambda d: set_in(d, "group.n", "41"), "group.n")
    add("betas_short", lambda d: set_in(d, "train.betas", [0.9]), "train.betas")
    add("betas_one", lambda d: set_in(d, "train.betas", [0.9, 1.0]), "train.betas")
    add("epochs_missing", lambda d: drop(d, "train.epochs"), "train.epochs")
    add("train_missing", lambda d: drop(d, "train"), "train")
    add("model_missing", lambda d: drop(d, "model"), "model")
    add("hidden_dim_missing", lambda d: drop(d, "model.hidden_dim"), "model.hidden_dim")
    add("unknown_top_key", lambda d: set_in(d, "learning_rate", 0.1), "learning_rate")
    add("unknown_train_key", lambda d: set_in(d, "train.momentum", 0.9), "train.momentum")
    add("unknown_group", lambda d: set_in(d, "group.name", "quaternion"), "group.name")
    add("unknown_model_kind", lambda d: set_in(d, "model.kind", "cnn"), "model.kind")
    add("other_kinds_key", lambda d: set_in(d, "model.d_model", 64), "d_model", "model")
    add("hidden_dim_zero", lambda d: set_in(d, "model.hidden_dim", 0), "model.hidden_dim")
    add("embed_dim_negative", lambda d: set_in(d, "model.embed_dim", -3), "model.embed_dim")
    add("epochs_negative", lambda d: set_in(d, "train.epochs", -5), "train.epochs")
    add("seed_negative", lambda d: set_in(d, "seed", -1), "seed")
    add("device_unknown", lambda d: set_in(d, "train.device", "tpu"), "train.device")
    add("split_unknown", lambda d: set_in(d, "data.split", "random"), "data.split")
    add("group_not_mapping", lambda d: set_in(d, "group", "cyclic"), "group")
    add("frac_zero", lambda d: set_in(d, "data.frac_train", 0), "data.frac_train")
    add("frac_one", lambda d: set_in(d, "data.frac_train", 1), "data.frac_train")
    add("frac_big", lambda d: set_in(d, "data.frac_train", 1.5), "data.frac_train")
    add("frac_negative", lambda d: set_in(d, "data.frac_train", -0.1), "data.frac_train")
    add("frac_empty_split", lambda d: set_in(d, "data.frac_train", 1e-9), "data.frac_train")
    add(
        "huge_s8",
        lambda d: d.update(group={"name": "symmetric", "n": 8}),
        "group.n",
        "GiB",
    )
    add(
        "huge_s9",
        lambda d: d.update(group={"name": "symmetric", "n": 9}),
        "group.n",
        "GiB",
    )
    add("huge_d40000", lambda d: d.update(group={"name": "dihedral", "n": 20000}), "group.n")
    return v


@pytest.mark.parametrize(("edit", "field", "extra"), _variants())
def test_malformed_experiment(params_dir, edit, field, extra):
    data = load_tiny()
    edit(data)
    path = tiny(params_dir)
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    with pytest.raises(ParamsError) as info:
        load_params(params_dir)
    msg = str(info.value)
    assert "\n" not in msg
    assert str(path) in msg
    assert field in msg
    if extra:
        assert extra in msg
    # the same error when loading the experiment alone
    with pytest.raises(ParamsError) as alone:
        load_experiment(path)
    assert str(alone.value) == msg


def test_other_kinds_key_names_full_field(params_dir):
    data = load_tiny()
    data["model"]["d_model"] = 64
    tiny(params_dir).write_text(yaml.safe_dump(data))
    with pytest.raises(ParamsError, match=r"model\.d_model: unknown key"):
        load_params(params_dir)


# Raw-text variants: syntax errors and non-mapping documents.
RAW = [
    pytest.param("seed: 0\ngroup: {name: cyclic, n: 41\n", "line ", id="unclosed_brace"),
    pytest.param("seed: 0\ntrain:\n  betas: [0.9, 0.98\n  lr: 1\n", "line ", id="unclosed_bracket"),
    pytest.param("seed: 0\n  group: x\n", "line 2", id="bad_indent"),
    pytest.param("", "(top level)", id="empty_file"),
    pytest.param("# only a comment\n", "(top level)", id="comment_only"),
    pytest.param("- seed: 0\n- group: x\n", "(top level)", id="top_level_list"),
    pytest.param("just a string\n", "(top level)", id="top_level_scalar"),
]


@pytest.mark.parametrize(("text", "expected"), RAW)
def test_malformed_yaml(params_dir, text, expected):
    path = tiny(params_dir)
    path.write_text(text)
    with pytest.raises(ParamsError) as info:
        load_params(params_dir)
    msg = str(info.value)
    assert "\n" not in msg
    assert str(path) in msg
    assert expected in msg


def test_yaml_error_line_number(params_dir):
    path = tiny(params_dir)
    lines = path.read_text().splitlines()
    idx = next(i for i, line in enumerate(lines) if line.lstrip().startswith("betas:"))
    lines[idx] = "  betas: [0.9, 0.98"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(ParamsError, match=r"YAML syntax error at line \d+") as info:
        load_params(params_dir)
    line = int(str(info.value).split("line ")[1].split(",")[0])
    # the parser notices the unclosed flow sequence on that line or soon after it
    assert idx + 1 <= line <= idx + 3


def test_extra_experiment_file_is_validated_too(params_dir):
    data = load_tiny()
    data["train"]["lr"] = "fast"
    path = params_dir / "experiments" / "unlisted.yaml"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(ParamsError, match="unlisted.yaml: train.lr"):
        load_params(params_dir)


def test_suite_names_missing_experiment(params_dir):
    suite = params_dir / "suite.yaml"
    suite.write_text("experiments:\n  - does_not_exist\n  - tiny_c41\n")
    with pytest.raises(ParamsError) as info:
        load_params(params_dir)
    msg = str(info.value)
    assert "\n" not in msg
    assert str(suite) in msg
    assert "experiments.0" in msg
    assert "does_not_exist" in msg


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("experiments: []\n", "experiments"),
        ("experiments: [tiny_c41, tiny_c41]\n", "experiments"),
        ("experiments: [tiny_c41]\nextra: 1\n", "extra"),
        ("{}\n", "experiments"),
    ],
)
def test_malformed_suite(params_dir, text, field):
    suite = params_dir / "suite.yaml"
    suite.write_text(text)
    with pytest.raises(ParamsError) as info:
        load_params(params_dir)
    msg = str(info.value)
    assert "\n" not in msg and str(suite) in msg and field in msg


def test_malformed_figures(params_dir):
    path = params_dir / "figures.yaml"
    data = yaml.safe_load(path.read_text())
    data["width"] = 10
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(ParamsError, match="figures.yaml: width"):
        load_params(params_dir)


def test_figures_take_neuron_indices_or_a_count(params_dir, tmp_path):
    from grokscope.steps.figure_neurons import chosen_units

    path = params_dir / "figures.yaml"
    data = yaml.safe_load(path.read_text())
    data["neurons"], data["outputs"] = [0, 35, 67], [0, 35, 67]  # as seed 000 plotted
    path.write_text(yaml.safe_dump(data))
    style = load_params(params_dir)["figures"]
    where = tmp_path / "mlp_d53" / "activations"
    assert chosen_units(style, "neurons", 128, where) == [0, 35, 67]
    assert chosen_units({"neurons": 4}, "neurons", 128, where) is None  # automatic choice
    with pytest.raises(
        ParamsError, match=r"figures.yaml: neurons: \[67\] out of range for mlp_d53"
    ):
        chosen_units(style, "neurons", 64, where)
    for bad in ([], [1, 1], [-1], "0, 35"):
        data["neurons"] = bad
        path.write_text(yaml.safe_dump(data))
        with pytest.raises(ParamsError, match="figures.yaml: neurons"):
            load_params(params_dir)


def test_missing_params_file(params_dir):
    (params_dir / "figures.yaml").unlink()
    with pytest.raises(ParamsError, match="figures.yaml: file not found"):
        load_params(params_dir)


def test_training_bytes_grows_with_order():
    model = {"kind": "mlp", "embed_dim": 32, "hidden_dim": 64}
    small, big = training_bytes(41, model), training_bytes(410, model)
    assert 0 < small < big
    assert big > 100 * small  # quadratic in the order


def _cli(*args, timeout=120):
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "workflow"), env.get("PYTHONPATH", "")])
    return subprocess.run(
        [sys.executable, "-m", "grokscope", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
    )


def test_cli_validate_ok(params_dir):
    done = _cli("validate", "--params-dir", str(params_dir))
    assert done.returncode == 0, done.stderr
    assert "params OK" in done.stdout


def test_cli_validate_error_is_one_line(params_dir):
    field = "train.lr"
    data = load_tiny()
    set_in(data, field, "fast")
    path = tiny(params_dir)
    path.write_text(yaml.safe_dump(data))
    done = _cli("validate", "--params-dir", str(params_dir))
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert str(path) in lines[0] and field in lines[0]


def test_cli_validate_yaml_syntax_error(params_dir):
    path = tiny(params_dir)
    path.write_text("seed: [0\n")
    done = _cli("validate", "--params-dir", str(params_dir))
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    assert len(done.stderr.splitlines()) == 1
    assert "line " in done.stderr and str(path) in done.stderr
