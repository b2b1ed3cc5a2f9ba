"""The failures grokscope expects, each reported to the user as one line.

A command that raises one of these exits with ``grokscope <command>: <message>`` and no
traceback (:mod:`grokscope.cli`); anything else is a bug: its traceback is printed, then the
same kind of closing line (``grokscope <command>: unexpected …``), which is what
:mod:`grokscope.failures` shows for a failed job.
"""

from __future__ import annotations


class GrokscopeError(Exception):
    """Base of the expected failures; ``str(err)`` is one line saying what and where."""


class ParamsError(GrokscopeError, ValueError):
    """A params file is malformed; the message names the file and the field."""


class ArtifactError(GrokscopeError, RuntimeError):
    """An input artifact is missing, unreadable or inconsistent; the message names the file."""


class TrainingError(GrokscopeError, RuntimeError):
    """Training cannot go on (the loss stopped being finite); the message names the epoch and
    the params to change."""


class MachineError(GrokscopeError, RuntimeError):
    """This machine lacks what a job needs (a CUDA device, a browser that answers); the message
    says what and what to do instead."""
