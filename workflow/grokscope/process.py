"""Process-wide settings, applied once at the process boundary (the CLI entry point).

Library functions never change these: a notebook or a test that imports grokscope keeps its
own thread count and allocator.
"""

from __future__ import annotations

import ctypes
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

# glibc's mallopt parameters (malloc.h).
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3


def set_threads(threads: int) -> None:
    """Use exactly ``threads`` torch CPU threads (Snakemake schedules by the rule's
    ``threads``) and say so on stderr."""
    import torch

    torch.set_num_threads(threads)
    print(f"torch threads: {torch.get_num_threads()}", file=sys.stderr)


class IdleCores:
    """Let a long step use the cores that no other grokscope step is using.

    Snakemake schedules a training job as one thread (``threads: 1``) so that short jobs run
    beside it; once they are done, the training job, the critical path of a suite, would leave
    the other cores idle. Called between epochs, this looks at the machine at most once every
    :attr:`INTERVAL` seconds, raises the torch threads to every core this process may use (and
    Snakemake was given: ``GROKSCOPE_CORES``, which the Snakefile sets to ``--cores``) once no
    other ``python -m grokscope`` step has run for :attr:`SETTLE` seconds, and lowers them back
    to the rule's ``threads`` as soon as one starts. The training step's results do not depend
    on the thread count (tested bit for bit), so this changes only its speed.

    Why the settling time and the frequent looks: between two of Snakemake's jobs there is a
    moment with no other step. A training job that looked only at its evaluations once raised
    its threads in such a moment (seen in a default-suite build) and ran its next hundred
    epochs beside the next job far slower than on one thread: torch's threads wait on each
    other when one of their cores is taken.
    """

    INTERVAL = 1.0  # seconds between looks at the machine (each reads every process's argv)
    SETTLE = 3.0  # seconds without another step before the threads are raised

    def __init__(
        self,
        threads: int,
        limit: int | None = None,
        clock: Callable[[], float] = time.monotonic,
        others: Callable[[], int] | None = None,
        apply: Callable[[int], None] | None = None,
    ) -> None:
        """``threads``: the rule's; ``limit``: the most to raise them to (default: the cores
        this process may use, at most ``GROKSCOPE_CORES``); ``clock``, ``others`` (how many
        other steps run now) and ``apply`` (set the threads): the machine's, unless given."""
        self.base = self.current = threads
        self.limit = default_limit() if limit is None else limit
        self.clock, self.apply = clock, set_threads if apply is None else apply
        self.others = self.other_steps if others is None else others
        self.next_look = clock()
        self.free_since: float | None = None  # first look that saw no other step, since one

    @staticmethod
    def step_pids() -> set[int]:
        """The ``python -m grokscope <step>`` processes on this machine, this one included."""
        pids = set()
        for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
            try:
                argv = cmdline.read_bytes().split(b"\0")
            except OSError:  # ended meanwhile, or not ours to read
                continue
            if argv[1:3] == [b"-m", b"grokscope"]:
                pids.add(int(cmdline.parent.name))
        return pids

    @classmethod
    def other_steps(cls) -> int:
        """How many other ``python -m grokscope`` processes run on this machine."""
        return len(cls.step_pids() - {os.getpid()})

    def __call__(self) -> None:
        now = self.clock()
        if now < self.next_look:
            return
        self.next_look = now + self.INTERVAL
        if self.others():
            self.free_since, want = None, self.base
        else:
            self.free_since = now if self.free_since is None else self.free_since
            settled = now - self.free_since >= self.SETTLE
            want = max(self.base, self.limit) if settled else self.base
        if want != self.current:
            self.apply(want)
            self.current = want


def default_limit() -> int:
    """The cores this process may use, at most ``GROKSCOPE_CORES`` when that is set."""
    limit = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1
    cores = os.environ.get("GROKSCOPE_CORES", "")
    return min(limit, int(cores)) if cores.isdigit() and int(cores) > 0 else limit


def keep_freed_memory() -> bool:
    """Make glibc's malloc keep freed memory for reuse instead of returning it to the OS.

    A CPU training step allocates and frees the same few MB-sized buffers every epoch.
    glibc's default thresholds adapt as a process runs, and depending on the order in which
    its first big buffers were freed, a process can end up giving the top of its heap back to
    the OS after every step and page-faulting it in again on the next (benchmarks/README.md
    has the measurements). Fixed thresholds (trim only above 1 GiB, mmap only above 32 MiB)
    put every process on the fast path; PyTorch's CPU tuning guide recommends a caching
    malloc for the same reason. Process-wide and idempotent: the CLI calls it before a
    training step, and the benchmark before every loop it times. Returns whether it applied
    (glibc only).
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = ctypes.CDLL("libc.so.6").mallopt
    except (OSError, AttributeError):  # not glibc (musl, …): nothing to tune
        return False
    return bool(mallopt(_M_TRIM_THRESHOLD, 1 << 30)) and bool(mallopt(_M_MMAP_THRESHOLD, 32 << 20))
