"""The three architectures: shapes, TransformerLens names, hooks, notebook init, fast path."""

from __future__ import annotations

import copy
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from grokscope.data import all_pairs
from grokscope.groups import make_group
from grokscope.kernels import WeightedRowsMLP, take_rows
from grokscope.losses import cross_entropy64
from grokscope.models import BilinearNet, OneLayerMLP, Transformer, build_model

torch.set_num_threads(1)

SPECS = {
    "bilinear": {"kind": "bilinear", "embed_dim": 16},
    "mlp": {"kind": "mlp", "embed_dim": 16, "hidden_dim": 32},
    "transformer": {"kind": "transformer", "d_model": 32, "n_heads": 2, "d_head": 16, "d_mlp": 64},
}
KINDS = list(SPECS)

TRANSFORMER_HOOKS = [
    "hook_embed",
    "hook_pos_embed",
    "blocks.0.hook_resid_pre",
    "blocks.0.attn.hook_q",
    "blocks.0.attn.hook_k",
    "blocks.0.attn.hook_v",
    "blocks.0.attn.hook_attn_scores",
    "blocks.0.attn.hook_pattern",
    "blocks.0.attn.hook_z",
    "blocks.0.hook_attn_out",
    "blocks.0.hook_resid_mid",
    "blocks.0.mlp.hook_pre",
    "blocks.0.mlp.hook_post",
    "blocks.0.hook_mlp_out",
    "blocks.0.hook_resid_post",
    "hook_logits",
]


def small_group():
    return make_group("cyclic", 7)


def pairs_of(group):
    return all_pairs(group)[:, :2]


def model_of(kind, order, seed=0):
    return build_model(SPECS[kind], order, seed)


@pytest.mark.parametrize("kind", KINDS)
def test_logits_shape(kind):
    group = small_group()
    model = model_of(kind, group.order)
    pairs = pairs_of(group)[:10]
    logits = model(pairs)
    assert logits.shape == (10, group.order)
    assert logits.dtype == torch.float32
    assert torch.isfinite(logits).all()


def test_build_model_kinds_and_unknown():
    assert isinstance(model_of("bilinear", 5), BilinearNet)
    assert isinstance(model_of("mlp", 5), OneLayerMLP)
    assert isinstance(model_of("transformer", 5), Transformer)
    with pytest.raises(ValueError, match="cnn"):
        build_model({"kind": "cnn"}, 5, 0)


def test_transformer_hook_names():
    names = set(model_of("transformer", 7).hook_points)
    assert set(TRANSFORMER_HOOKS) <= names


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("bilinear", {"hook_embed_a", "hook_embed_b", "hook_product", "hook_logits"}),
        (
            "mlp",
            {
                "hook_embed_a",
                "hook_embed_b",
                "hook_embed",
                "mlp.hook_pre",
                "mlp.hook_post",
                "hook_logits",
            },
        ),
    ],
)
def test_small_model_hook_names(kind, expected):
    model = model_of(kind, 7)
    assert set(model.hook_points) == expected
    assert model.neuron_hook in model.hook_points


def test_transformer_neuron_hook_exists():
    model = model_of("transformer", 7)
    assert model.neuron_hook == "blocks.0.mlp.hook_post"
    assert model.neuron_hook in model.hook_points


def test_transformer_parameter_names_and_shapes():
    order, spec = 7, SPECS["transformer"]
    d, h, dh, dm = spec["d_model"], spec["n_heads"], spec["d_head"], spec["d_mlp"]
    params = dict(model_of("transformer", order).named_parameters())
    expected = {
        "embed.W_E": (order + 1, d),
        "pos_embed.W_pos": (3, d),
        "blocks.0.attn.W_Q": (h, d, dh),
        "blocks.0.attn.W_K": (h, d, dh),
        "blocks.0.attn.W_V": (h, d, dh),
        "blocks.0.attn.W_O": (h, dh, d),
        "blocks.0.mlp.W_in": (d, dm),
        "blocks.0.mlp.b_in": (dm,),
        "blocks.0.mlp.W_out": (dm, d),
        "blocks.0.mlp.b_out": (d,),
        "unembed.W_U": (d, order),
    }
    assert set(params) == set(expected)
    for name, shape in expected.items():
        assert tuple(params[name].shape) == shape, name


def _expected_shapes(kind, batch, order):
    s = SPECS[kind]
    if kind == "bilinear":
        e = s["embed_dim"]
        return {
            "hook_embed_a": (batch, e),
            "hook_embed_b": (batch, e),
            "hook_product": (batch, e),
            "hook_logits": (batch, order),
        }
    if kind == "mlp":
        e, hd = s["embed_dim"], s["hidden_dim"]
        return {
            "hook_embed_a": (batch, e),
            "hook_embed_b": (batch, e),
            "hook_embed": (batch, 2 * e),
            "mlp.hook_pre": (batch, hd),
            "mlp.hook_post": (batch, hd),
            "hook_logits": (batch, order),
        }
    d, h, dh, dm = s["d_model"], s["n_heads"], s["d_head"], s["d_mlp"]
    resid = (batch, 3, d)
    return {
        "hook_embed": resid,
        "hook_pos_embed": resid,
        "blocks.0.hook_resid_pre": resid,
        "blocks.0.attn.hook_q": (batch, 3, h, dh),
        "blocks.0.attn.hook_k": (batch, 3, h, dh),
        "blocks.0.attn.hook_v": (batch, 3, h, dh),
        "blocks.0.attn.hook_attn_scores": (batch, h, 3, 3),
        "blocks.0.attn.hook_pattern": (batch, h, 3, 3),
        "blocks.0.attn.hook_z": (batch, 3, h, dh),
        "blocks.0.hook_attn_out": resid,
        "blocks.0.hook_resid_mid": resid,
        "blocks.0.mlp.hook_pre": (batch, 3, dm),
        "blocks.0.mlp.hook_post": (batch, 3, dm),
        "blocks.0.hook_mlp_out": resid,
        "blocks.0.hook_resid_post": resid,
        "hook_logits": (batch, order),
    }


@pytest.mark.parametrize("kind", KINDS)
def test_run_with_cache_all_hooks(kind):
    group = small_group()
    model = model_of(kind, group.order)
    pairs = pairs_of(group)[:12]
    logits, cache = model.run_with_cache(pairs)
    with torch.no_grad():
        plain = model(pairs)
    assert torch.equal(logits, plain)
    assert set(cache) == set(model.hook_points)
    expected = _expected_shapes(kind, 12, group.order)
    assert set(cache) == set(expected)
    for name, shape in expected.items():
        assert tuple(cache[name].shape) == shape, name
        assert not cache[name].requires_grad
    assert torch.equal(cache["hook_logits"], logits)
    if kind != "bilinear":  # the bilinear product is signed (checked separately)
        assert (cache[model.neuron_hook] >= 0).all()  # post-ReLU


def test_bilinear_cache_consistency():
    group = small_group()
    model = model_of("bilinear", group.order)
    pairs = pairs_of(group)[:12]
    _, cache = model.run_with_cache(pairs)
    assert torch.allclose(cache["hook_product"], cache["hook_embed_a"] * cache["hook_embed_b"])
    assert torch.equal(cache["hook_embed_a"], model.W_E_a.detach()[pairs[:, 0]])


def test_mlp_cache_consistency():
    group = small_group()
    model = model_of("mlp", group.order)
    pairs = pairs_of(group)[:12]
    _, cache = model.run_with_cache(pairs)
    assert torch.equal(cache["mlp.hook_post"], F.relu(cache["mlp.hook_pre"]))
    assert torch.equal(cache["hook_embed"][:, :16], cache["hook_embed_a"])


def test_transformer_attention_pattern():
    group = small_group()
    model = model_of("transformer", group.order)
    pairs = pairs_of(group)
    _, cache = model.run_with_cache(pairs)
    pattern = cache["blocks.0.attn.hook_pattern"]
    torch.testing.assert_close(pattern.sum(-1), torch.ones(pattern.shape[:-1]))
    upper = torch.triu(torch.ones(3, 3, dtype=torch.bool), diagonal=1)
    assert (pattern[..., upper] == 0).all()
    assert (pattern[..., ~upper] > 0).all()
    scores = cache["blocks.0.attn.hook_attn_scores"]
    assert torch.isneginf(scores[..., upper]).all()
    assert torch.isfinite(scores[..., ~upper]).all()
    # position 0 only sees itself
    assert torch.allclose(pattern[:, :, 0, 0], torch.ones(()))
    # the embedding hook sees the '=' token (index order) at the last position
    assert torch.equal(
        cache["hook_embed"][:, 2], model.embed.W_E.detach()[group.order].expand(49, -1)
    )
    assert torch.equal(cache["blocks.0.mlp.hook_post"], F.relu(cache["blocks.0.mlp.hook_pre"]))
    resid_mid = cache["blocks.0.hook_resid_pre"] + cache["blocks.0.hook_attn_out"]
    torch.testing.assert_close(cache["blocks.0.hook_resid_mid"], resid_mid)


@pytest.mark.parametrize("kind", KINDS)
def test_run_with_cache_names_restricts(kind):
    group = small_group()
    model = model_of(kind, group.order)
    pairs = pairs_of(group)[:5]
    names = [model.neuron_hook, "hook_logits"]
    logits, cache = model.run_with_cache(pairs, names=names)
    assert set(cache) == set(names)
    assert torch.equal(cache["hook_logits"], logits)


@pytest.mark.parametrize("kind", KINDS)
def test_run_with_hooks_ablation_and_passthrough(kind):
    group = small_group()
    model = model_of(kind, group.order)
    pairs = pairs_of(group)
    with torch.no_grad():
        plain = model(pairs)
        zeroed = model.run_with_hooks(pairs, [(model.neuron_hook, lambda x, name: x * 0)])
        seen = []
        untouched = model.run_with_hooks(
            pairs, [(model.neuron_hook, lambda x, name: seen.append(name))]
        )
        after = model(pairs)
    assert not torch.allclose(zeroed, plain)
    assert torch.equal(untouched, plain)
    assert seen == [model.neuron_hook]
    assert torch.equal(after, plain)  # hooks are removed afterwards


def test_bilinear_zero_product_gives_zero_logits():
    group = small_group()
    model = model_of("bilinear", group.order)
    with torch.no_grad():
        out = model.run_with_hooks(
            pairs_of(group), [("hook_product", lambda x, n: torch.zeros_like(x))]
        )
    assert torch.equal(out, torch.zeros_like(out))


@pytest.mark.parametrize("kind", KINDS)
def test_unknown_hook_raises_and_cleans_up(kind):
    group = small_group()
    model = model_of(kind, group.order)
    pairs = pairs_of(group)
    with torch.no_grad():
        plain = model(pairs)
    with pytest.raises(KeyError, match="hook_nonexistent"):
        model.run_with_hooks(
            pairs,
            [(model.neuron_hook, lambda x, n: x * 0), ("hook_nonexistent", lambda x, n: x)],
        )
    with pytest.raises(KeyError):
        model.run_with_cache(pairs, names=["blocks.7.hook_nothing"])
    with torch.no_grad():
        assert torch.equal(model(pairs), plain)  # the valid hook was detached again


# --- initialisation identical to the notebook ---------------------------------------------


def notebook_bilinear_init(n, e, seed):
    torch.manual_seed(seed)
    W_E_a = torch.randn(n, e) / np.sqrt(e)
    W_E_b = torch.randn(n, e) / np.sqrt(e)
    W_U = torch.randn(e, n) / np.sqrt(e)
    return {"W_E_a": W_E_a, "W_E_b": W_E_b, "W_U": W_U}


def notebook_mlp_init(n, e, hidden, seed):
    torch.manual_seed(seed)
    W_E_a = torch.randn(n, e) / np.sqrt(e)
    W_E_b = torch.randn(n, e) / np.sqrt(e)
    W = torch.randn(2 * e, hidden) / np.sqrt(2 * e)
    W_U = torch.randn(hidden, n) / np.sqrt(hidden)
    return {"W_E_a": W_E_a, "W_E_b": W_E_b, "mlp.W": W, "W_U": W_U}


INIT_CASES = [
    ("bilinear", 13, {"embed_dim": 24}, 0),
    ("bilinear", 12, {"embed_dim": 32}, 5),
    ("mlp", 13, {"embed_dim": 24, "hidden_dim": 48}, 0),
    ("mlp", 10, {"embed_dim": 32, "hidden_dim": 100}, 7),
]


def _init_pair(kind, n, dims, seed):
    model = build_model({"kind": kind, **dims}, n, seed)
    if kind == "bilinear":
        ref = notebook_bilinear_init(n, dims["embed_dim"], seed)
    else:
        ref = notebook_mlp_init(n, dims["embed_dim"], dims["hidden_dim"], seed)
    return dict(model.named_parameters()), ref


@pytest.mark.parametrize(("kind", "n", "dims", "seed"), INIT_CASES)
def test_init_matches_notebook(kind, n, dims, seed):
    ours, ref = _init_pair(kind, n, dims, seed)
    assert set(ours) == set(ref)
    for name, expected in ref.items():
        # same random stream, same order, same scale: equal to float32 rounding (<= 2 ulp)
        torch.testing.assert_close(ours[name].detach(), expected, rtol=2**-21, atol=0)


@pytest.mark.parametrize(("kind", "n", "dims", "seed"), INIT_CASES)
def test_init_matches_notebook_bitwise(kind, n, dims, seed):
    ours, ref = _init_pair(kind, n, dims, seed)
    for name, expected in ref.items():
        assert torch.equal(ours[name].detach(), expected), name


def test_init_does_not_touch_global_rng():
    torch.manual_seed(11)
    expected = torch.randn(3)
    torch.manual_seed(11)
    model_of("mlp", 7, seed=3)
    assert torch.equal(torch.randn(3), expected)


@pytest.mark.parametrize("kind", KINDS)
def test_same_seed_same_params_different_seed_different(kind):
    a = dict(model_of(kind, 9, seed=1).named_parameters())
    b = dict(model_of(kind, 9, seed=1).named_parameters())
    c = dict(model_of(kind, 9, seed=2).named_parameters())
    for name in a:
        assert torch.equal(a[name], b[name]), name
        if "b_in" in name or "b_out" in name:  # biases start at zero
            assert torch.equal(a[name], c[name])
        else:
            assert not torch.equal(a[name], c[name]), name


def test_init_scale():
    model = model_of("mlp", 50, seed=0)
    assert math.isclose(float(model.W_E_a.detach().std()), 1 / math.sqrt(16), rel_tol=0.15)
    assert math.isclose(float(model.mlp.W.detach().std()), 1 / math.sqrt(32), rel_tol=0.15)


# --- fast path -----------------------------------------------------------------------------


def value_and_grads(model, value, loss=None, upstream=1.0):
    """``(value, {name: gradient})``: the gradients of ``upstream · loss`` (default: of
    ``value``) in ``model``'s parameters."""
    loss = value if loss is None else loss
    model.zero_grad(set_to_none=True)
    (upstream * loss).backward()
    return value.detach(), {k: p.grad.clone() for k, p in model.named_parameters()}


def assert_matches(fast, slow, atol=1e-5):
    """Values and gradients ``(value, {name: grad})`` equal (``fast`` cast to ``slow``'s dtype);
    gradient tolerances ``atol`` relative to the largest entry of each of ``slow``'s."""
    (fast_value, fast_grads), (slow_value, slow_grads) = fast, slow
    torch.testing.assert_close(fast_value.to(slow_value.dtype), slow_value, atol=atol, rtol=0)
    assert set(fast_grads) == set(slow_grads)
    for k, slow_grad in slow_grads.items():
        scale = slow_grad.abs().max()
        assert scale > 0, k  # every parameter is actually exercised
        fast_grad = fast_grads[k].to(slow_grad.dtype)
        torch.testing.assert_close(fast_grad, slow_grad, atol=atol * scale, rtol=0, msg=k)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(("name", "n"), [("cyclic", 13), ("dihedral", 6)])
def test_neurons_and_logits_match_the_hooked_forward(kind, name, n):
    # What every neuron ablation starts from: the transformer's shortcut (the '=' position
    # only) gives the hooked forward pass's neurons at the answer and its logits.
    group = make_group(name, n)
    model = model_of(kind, group.order, seed=5)
    pairs = all_pairs(group)[:, :2]
    logits, cache = model.run_with_cache(pairs, [model.neuron_hook])
    with torch.no_grad():
        neurons, fast_logits = model.neurons_and_logits(pairs)
    hooked = model.at_answer(cache[model.neuron_hook])
    assert neurons.shape == hooked.shape and neurons.abs().max() > 0
    torch.testing.assert_close(neurons, hooked, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(fast_logits, logits, rtol=1e-5, atol=1e-6)


def test_a_two_layer_transformer_trains_through_the_hooked_fallback():
    # Without the one-layer shortcut, fast_forward falls back on neurons_and_logits' hooked
    # pass: the same logits as forward, and gradients for training.
    group = make_group("cyclic", 7)
    model = Transformer(group.order, 16, 2, 8, 32, seed=1, n_layers=2)
    pairs = all_pairs(group)[:, :2]
    logits = model.fast_forward(pairs)
    torch.testing.assert_close(logits, model(pairs))
    logits.sum().backward()
    assert all(p.grad is not None for p in model.parameters() if p.requires_grad)


# The training loss's hand-written kernels on the CPU (the others: cross_entropy64's autograd).
FUSED_LOSS = {"mlp": "FoldedMLPLossBackward", "transformer": "ResolvedCrossEntropyBackward"}


def float64_reference(model):
    """The readable model in float64, same weights: the reference for the training loss."""
    return copy.deepcopy(model).double()


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(
    ("name", "n"), [("cyclic", 13), ("dihedral", 6), ("symmetric", 4), ("alternating", 4)]
)
def test_fast_paths_match_forward(kind, name, n):
    # fast_forward's logits (every pair) equal the readable model's; fast_loss, the training
    # step's loss (log-softmax in float64; fused with a hand-written backward for the MLP on
    # the CPU; on a train-like half of the pairs, under a non-unit upstream gradient), equals
    # the readable model's in float64, value and gradients.
    group = make_group(name, n)
    data = all_pairs(group)
    model = model_of(kind, group.order, seed=3)

    pairs, labels = data[:, :2], data[:, 2]
    slow_logits, fast_logits = model(pairs), model.fast_forward(pairs)
    assert fast_logits.shape == (group.order**2, group.order)
    if kind == "transformer":  # the table path, not a silent fallback
        assert type(fast_logits.grad_fn).__name__ == "WeightedRowsMLPBackward"
    assert_matches(
        value_and_grads(model, fast_logits, F.cross_entropy(fast_logits, labels)),
        value_and_grads(model, slow_logits, F.cross_entropy(slow_logits, labels)),
    )

    keep = torch.randperm(len(data), generator=torch.Generator().manual_seed(0))[: len(data) // 2]
    pairs, labels = data[keep, :2], data[keep, 2]  # a train-like subset, not every pair
    reference = float64_reference(model)
    fast_loss = model.fast_loss(pairs, labels)
    assert fast_loss.dtype == torch.float64
    assert type(fast_loss.grad_fn).__name__ == FUSED_LOSS.get(kind, "NllLossBackward0")
    slow_loss = F.cross_entropy(reference(pairs), labels)
    assert_matches(
        value_and_grads(model, fast_loss, upstream=2.5),
        value_and_grads(reference, slow_loss, upstream=2.5),
    )


def test_transformer_table_path_matches_forward_at_the_published_size():
    # The training step's shortcut (Transformer.table_logits: the attention read as tables,
    # a sparse product with a hand-written backward; ResolvedCrossEntropy: the loss from
    # float32 passes) at the published width and a 30% train set of C_113, against the
    # readable model in float64: loss and every gradient, with 1 and 2 threads; and the same
    # numbers bit for bit with either (a run may change its thread count mid-run:
    # grokscope.process.IdleCores).
    group = make_group("cyclic", 113)
    data = all_pairs(group)
    keep = torch.randperm(len(data), generator=torch.Generator().manual_seed(0))[:3830]
    pairs, labels = data[keep, :2], data[keep, 2]
    spec = {"kind": "transformer", "d_model": 128, "n_heads": 4, "d_head": 32, "d_mlp": 512}
    model = build_model(spec, group.order, seed=2)
    reference = float64_reference(model)
    slow = value_and_grads(reference, F.cross_entropy(reference(pairs), labels), upstream=2.5)
    before = torch.get_num_threads()
    results = []
    try:
        for threads in (1, 2):
            torch.set_num_threads(threads)
            assert type(model.fast_forward(pairs).grad_fn).__name__ == "WeightedRowsMLPBackward"
            fast = value_and_grads(model, model.fast_loss(pairs, labels), upstream=2.5)
            assert_matches(fast, slow)
            results.append(fast)
    finally:
        torch.set_num_threads(before)
    (one, one_grads), (two, two_grads) = results
    assert torch.equal(one, two)
    assert all(torch.equal(one_grads[k], two_grads[k]) for k in one_grads)


def test_transformer_fast_forward_under_vmap_takes_the_readable_shortcut():
    # The table path's kernel has no vmap rule: under torch.func transforms (the batched
    # trainer) fast_forward falls back on neurons_and_logits, same logits.
    group = make_group("dihedral", 6)
    pairs = all_pairs(group)[:, :2]
    model = model_of("transformer", group.order, seed=4)
    wrapped = _FastForward(model)
    params = {k: v.detach()[None] for k, v in wrapped.named_parameters()}  # one stacked seed
    stacked = torch.vmap(lambda p: torch.func.functional_call(wrapped, p, (pairs,)))(params)
    # (WeightedRowsMLP.apply refuses any active torch.func transform: it has no vmap rule.)
    torch.testing.assert_close(stacked[0], model(pairs).detach(), rtol=1e-5, atol=1e-6)


class _FastForward(torch.nn.Module):
    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, pairs):
        return self.model.fast_forward(pairs)


def test_transformer_table_rows_are_increasing_and_cover_the_table():
    # WeightedRowsMLP's contract (its index rows are CSR columns): each pair's rows strictly
    # increasing; over every pair, every row of the (2·heads·order + 1)-row table is read.
    model = model_of("transformer", 7)
    heads = model.blocks[0].attn.W_Q.shape[0]
    rows = model.table_rows(pairs_of(small_group()), heads)
    assert rows.shape == (49, 2 * heads + 1)
    assert bool((rows.diff(dim=1) > 0).all())
    assert set(rows.flatten().tolist()) == set(range(2 * heads * 7 + 1))


@pytest.mark.parametrize("k", [1, 5])
def test_weighted_rows_mlp_matches_its_dense_form(k):
    # The kernel on its own, against the same maths written densely (a one-hot matrix), with
    # rows read by many pairs and rows no pair reads: values and the gradients of the
    # weights, the table and the readout. Each pair's rows increasing, without repeats (its
    # contract: they are the columns of a CSR matrix).
    gen = torch.Generator().manual_seed(7)
    batch, rows, d_mlp, order = 50, 12, 16, 5
    shuffled = torch.rand(batch, rows - 2, generator=gen).argsort(1)  # the last rows unread
    index = shuffled[:, :k].sort(1).values  # (batch, k)
    leaves = [
        torch.randn(batch, k, generator=gen),  # weights
        torch.randn(rows, d_mlp + order, generator=gen),  # table
        torch.randn(d_mlp, order, generator=gen),  # readout
    ]
    upstream = torch.randn(batch, order, generator=gen)

    def grads(fn):
        params = [t.clone().requires_grad_() for t in leaves]
        out = fn(*params)
        (out * upstream).sum().backward()
        return out.detach(), {str(i): p.grad for i, p in enumerate(params)}

    def dense(weights, table, readout):
        sparse = torch.zeros(batch, rows).scatter_add(1, index, weights)  # (batch, rows)
        summed = sparse @ table
        return summed[:, d_mlp:] + F.relu(summed[:, :d_mlp]) @ readout

    fast = grads(lambda w, t, r: WeightedRowsMLP.apply(w, t, index, r))
    assert_matches(fast, grads(dense))


# The unembedding: scaling it scales every logit (no bias or nonlinearity after it).
UNEMBED = {"bilinear": "W_U", "mlp": "W_U", "transformer": "unembed.W_U"}


def memorised(kind, target_loss=1e-7):
    """A model that has memorised a train-like half of C_13 with mean loss ``target_loss``,
    where a float32 log-softmax cannot resolve it: ``(model, pairs, labels)``.

    Fitted in float64 by full-batch Adam (no weight decay) until every pair is right, then its
    unembedding scaled (bisection on the log of the scale) until the loss is ``target_loss``.
    """
    group = make_group("cyclic", 13)
    data = all_pairs(group)
    keep = torch.randperm(len(data), generator=torch.Generator().manual_seed(0))[: len(data) // 2]
    pairs, labels = data[keep, :2], data[keep, 2]
    model = float64_reference(model_of(kind, group.order, seed=3))
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    for _ in range(500):
        logits = model(pairs)
        if (logits.argmax(1) == labels).all() and F.cross_entropy(logits, labels) < 1e-2:
            break
        opt.zero_grad()
        F.cross_entropy(logits, labels).backward()
        opt.step()
    unembed = dict(model.named_parameters())[UNEMBED[kind]]
    fitted = unembed.detach().clone()
    low, high = 0.0, math.log(1e4)  # log of the scale
    with torch.no_grad():
        for _ in range(60):
            middle = (low + high) / 2
            unembed.copy_(fitted * math.exp(middle))
            loss = F.cross_entropy(model(pairs), labels)
            low, high = (low, middle) if loss < target_loss else (middle, high)
    assert (model(pairs).argmax(1) == labels).all()
    return model.float(), pairs, labels


@pytest.mark.parametrize("kind", KINDS)
def test_fast_loss_resolves_a_memorised_loss(kind):
    # At a loss of ~1e-7 (a memorised training set), a float32 log-softmax rounds p_y to 1 or
    # 1 - 6e-8: the loss and the answer's gradient p_y - 1 lose every digit while the other
    # answers' gradients stay exact. The training step's loss must be the float64 one.
    model, pairs, labels = memorised(kind)
    reference = float64_reference(model)
    slow_loss = F.cross_entropy(reference(pairs), labels)
    assert 5e-8 < slow_loss < 2e-7
    fast_loss = model.fast_loss(pairs, labels)
    assert type(fast_loss.grad_fn).__name__ == FUSED_LOSS.get(kind, "NllLossBackward0")
    slow = value_and_grads(reference, slow_loss, upstream=2.5)
    fast = value_and_grads(model, fast_loss, upstream=2.5)
    # float32 is off by 0.7–13% in the loss and 12–19% in the gradients here; the fast paths
    # by under 1e-5 and 1e-4.
    torch.testing.assert_close(fast[0], slow[0], rtol=1e-4, atol=0)
    assert_matches(fast, slow, atol=1e-3)


def test_mlp_fast_loss_under_vmap_falls_back_to_autograd():
    # The fused loss has no vmap rule; under vmap (stacked seeds) fast_loss must take
    # fast_forward's autograd path and still give each stacked model's own loss and gradients
    # (log-softmax in float64).
    group = make_group("dihedral", 6)
    data = all_pairs(group)
    pairs, labels = data[:, :2], data[:, 2]
    models = [model_of("mlp", group.order, seed=s) for s in (0, 1)]

    class Loss(torch.nn.Module):
        def __init__(self, model):
            super().__init__()
            self.model = model

        def forward(self, x, y):
            return self.model.fast_loss(x, y)

    names = [k for k, _ in models[0].named_parameters()]
    stacked = {
        f"model.{k}": torch.stack([dict(m.named_parameters())[k] for m in models]) for k in names
    }

    def loss_of(params):
        return torch.func.functional_call(Loss(models[0]), params, (pairs, labels))

    losses = torch.vmap(loss_of)({k: v.detach() for k, v in stacked.items()})
    grads = torch.vmap(torch.func.grad(loss_of))({k: v.detach() for k, v in stacked.items()})
    assert losses.dtype == torch.float64
    for i, model in enumerate(models):
        loss = cross_entropy64(model(pairs), labels)
        want = dict(zip(names, torch.autograd.grad(loss, list(model.parameters())), strict=True))
        torch.testing.assert_close(losses[i], loss.detach(), atol=1e-5, rtol=0)
        for k in names:
            torch.testing.assert_close(grads[f"model.{k}"][i], want[k], atol=1e-5, rtol=0)


@pytest.mark.parametrize("shape", [(7, 5), (7, 3, 4)])
def test_take_rows_matches_embedding_values_and_gradients(shape):
    # take_rows replaces F.embedding on the fast paths for its faster backward; values and
    # gradients must be the same, also for 3-D tables, strided gradients and under vmap.
    gen = torch.Generator().manual_seed(0)
    index = torch.randint(0, shape[0], (40,), generator=gen)
    table = torch.randn(*shape, generator=gen, requires_grad=True)
    rows = take_rows(table, index)  # (40, *shape[1:])
    assert torch.equal(rows, table.detach()[index])
    wide = torch.randn(40, *shape[1:-1], 2 * shape[-1], generator=gen)
    upstream = wide[..., ::2]  # strided, like a slice of a stacked tensor's gradient
    assert not upstream.is_contiguous()
    rows.backward(upstream)
    reference = table.detach().flatten(1).requires_grad_()
    F.embedding(index, reference).backward(upstream.reshape(40, -1))
    torch.testing.assert_close(table.grad, reference.grad.view(shape), atol=1e-6, rtol=0)

    stacked = torch.randn(3, *shape, generator=gen, requires_grad=True)  # (K, rows, ...)
    torch.vmap(lambda t: take_rows(t, index))(stacked).sum().backward()
    counts = torch.bincount(index, minlength=shape[0]).float()  # gradient of a sum of rows
    expected = counts.view(1, -1, *[1] * (len(shape) - 1)).expand_as(stacked)
    torch.testing.assert_close(stacked.grad, expected)
