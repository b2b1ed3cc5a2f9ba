"""Named activations, in the style of TransformerLens's ``hook_points.py``.

Every activation a model computes passes through a :class:`HookPoint`, an identity module. Its
name is its path in the module tree (``blocks.0.mlp.hook_post``), so a name is stable for as
long as the architecture is, and analyses ask for activations by name instead of reaching into
a forward pass.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from contextlib import contextmanager

import torch
from torch import nn

from grokscope.losses import cross_entropy64

# A forward hook sees the activation and its hook's name; returning a tensor replaces it.
HookFn = Callable[[torch.Tensor, str], torch.Tensor | None]


class HookPoint(nn.Module):
    """Identity module that marks an activation. Costs nothing when no hook is attached."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x


class HookedModule(nn.Module):
    """Base class of every grokscope model: named hook points, cache/ablation calls, and what
    the analyses need to know about the architecture.

    Subclasses define ``forward(pairs)`` with ``pairs`` of shape ``(batch, 2)`` (int64
    elements ``a, b``) returning logits ``(batch, order)``, and declare:

    - ``kind``: the name in ``model.kind`` of the params (:data:`grokscope.models.MODELS`);
    - ``neuron_hook``: the hidden (post-nonlinearity) layer the analyses study, and
      ``neuron_pre_hook`` its input (``None`` when there is no nonlinearity);
    - ``resid_hook``: the residual stream after the block (``None`` without one), and
      ``resid_mid_hook`` between attention and MLP; ``attention_hook``: the attention
      pattern (``None`` without attention);
    - ``answer_position``: the sequence position whose activations reach the logits, for
      models whose activations have a position axis ``(batch, pos, ...)`` (``None`` for
      models without one), and :meth:`answer_axis`: where that axis is in a hook's
      per-example shape;
    - :meth:`embedding_matrices`, :meth:`neuron_readout`: the maps from group elements and
      from the neurons to the logits.
    """

    kind: str = ""
    neuron_hook: str = ""
    neuron_pre_hook: str | None = None
    resid_hook: str | None = None
    resid_mid_hook: str | None = None
    attention_hook: str | None = None
    answer_position: int | None = None

    def hook_aliases(self) -> dict[str, str | None]:
        """Short names for params: ``neurons``, ``neurons_pre``, ``logits``, ``resid``,
        ``resid_mid``, ``attention`` (``None``: not in this model)."""
        return {
            "neurons": self.neuron_hook,
            "neurons_pre": self.neuron_pre_hook,
            "logits": "hook_logits",
            "resid": self.resid_hook,
            "resid_mid": self.resid_mid_hook,
            "attention": self.attention_hook,
        }

    def answer_axis(self, hook: str) -> int | None:
        """The axis of ``hook``'s per-example shape that indexes sequence positions (the one
        :attr:`answer_position` selects), or ``None``: no position axis."""
        return None

    def at_answer(self, x: torch.Tensor) -> torch.Tensor:
        """The neuron activation at the answer: ``(batch, pos, units)`` → ``(batch, units)``
        for models with a position axis, unchanged otherwise."""
        return x if self.answer_position is None else x[:, self.answer_position]

    def replace_at_answer(self, x: torch.Tensor, values: torch.Tensor) -> torch.Tensor:
        """``x`` (the neuron activation) with its answer position replaced by ``values``
        ``(batch, units)``; the other positions are kept."""
        if self.answer_position is None:
            return values
        x = x.clone()
        x[:, self.answer_position] = values
        return x

    def embedding_matrices(self) -> dict[str, torch.Tensor]:
        """The maps from group elements, each ``(order, width)``: one row per element."""
        raise NotImplementedError

    def neuron_readout(self) -> torch.Tensor:
        """The linear map from the ``neuron_hook`` units to the logits: ``(units, order)``.

        Every model's logits are affine in those units at the answer: ``logits = units @
        readout + (terms that do not depend on them)`` (tested for each model), which the
        ablations rely on.
        """
        raise NotImplementedError

    def neuron_writeout(self) -> tuple[torch.Tensor, torch.Tensor | None, str]:
        """Where the ``neuron_hook`` units write next: ``(weights (units, width), bias
        (width,) or None, name)``; by default straight into the logits (the readout)."""
        return self.neuron_readout(), None, "logits"

    def fast_forward(self, pairs: torch.Tensor) -> torch.Tensor:
        """Logits ``(batch, order)`` computed only as far as the answer needs (no hooks fire).

        Training uses this; it must equal ``forward`` up to float rounding (tested).
        Subclasses override it with algebraically equivalent shortcuts.
        """
        return self(pairs)

    def neurons_and_logits(self, pairs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The ``neuron_hook`` activation at the answer ``(batch, units)`` and the logits
        ``(batch, order)``, computed only as far as those need.

        What every neuron ablation starts from (:class:`grokscope.ablations.NeuronMap`); it
        must equal ``run_with_cache``'s up to float rounding (tested). Subclasses override it
        with the shortcut of their :meth:`fast_forward`, which may fall back on this one, so it
        keeps the autograd graph (callers that only read take ``torch.no_grad()``).
        """
        kept: dict[str, torch.Tensor] = {}

        def keep(x: torch.Tensor, _name: str) -> None:
            kept["neurons"] = x

        logits = self.run_with_hooks(pairs, [(self.neuron_hook, keep)])
        return self.at_answer(kept["neurons"]), logits

    def fast_loss(self, pairs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        """Mean cross-entropy ``()`` of ``fast_forward(pairs)`` against ``targets`` ``(batch,)``.

        The training step's loss, with its log-softmax in float64 (:func:`cross_entropy64`: a
        memorised pair's loss, ~1e-7, is below float32's resolution). Subclasses may fuse it
        with the forward and backward pass (the MLP does on the CPU); value and gradients must
        equal the readable model's in float64 up to float32 rounding (tested).
        """
        return cross_entropy64(self.fast_forward(pairs), targets)

    @property
    def hook_points(self) -> dict[str, HookPoint]:
        """Every hook point by name, in module registration order."""
        return {name: m for name, m in self.named_modules() if isinstance(m, HookPoint)}

    @contextmanager
    def hooks(self, fwd_hooks: Iterable[tuple[str, HookFn]]):
        """Attach ``(name, fn)`` forward hooks for the duration of the ``with`` block."""
        points = self.hook_points
        handles = []
        try:
            for name, fn in fwd_hooks:
                if name not in points:
                    raise KeyError(f"no hook point {name!r}; have {list(points)}")
                handles.append(
                    points[name].register_forward_hook(
                        lambda _m, _inp, out, fn=fn, name=name: fn(out, name)
                    )
                )
            yield self
        finally:
            for handle in handles:
                handle.remove()

    def run_with_hooks(
        self, pairs: torch.Tensor, fwd_hooks: Iterable[tuple[str, HookFn]]
    ) -> torch.Tensor:
        """Forward pass with hooks that may read or replace activations; returns logits."""
        with self.hooks(fwd_hooks):
            return self(pairs)

    def run_with_cache(
        self, pairs: torch.Tensor, names: Iterable[str] | None = None
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """Forward pass returning ``(logits, cache)``; ``cache[name]`` is that activation.

        Args:
            pairs: ``(batch, 2)`` int64 inputs.
            names: hook names to keep (default: all of them).
        """
        cache: dict[str, torch.Tensor] = {}

        def keep(x: torch.Tensor, name: str) -> None:
            cache[name] = x.detach()

        wanted = list(self.hook_points) if names is None else list(names)
        with torch.no_grad():
            logits = self.run_with_hooks(pairs, [(name, keep) for name in wanted])
        return logits, cache
