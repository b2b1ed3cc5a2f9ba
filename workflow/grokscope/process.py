"""Process-wide settings, applied once at the process boundary (the CLI entry point).

Library functions never change these: a notebook or a test that imports grokscope keeps its
own thread count and allocator.
"""

from __future__ import annotations

import ctypes
import os
import sys
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
    the other cores idle. Called after every evaluation, this raises the torch threads to
    every core this process may use (and Snakemake was given: ``GROKSCOPE_CORES``, which the
    Snakefile sets to ``--cores``) while no other ``python -m grokscope`` step runs on the
    machine, and lowers them back to the rule's ``threads`` when one starts. The training
    step's results do not depend on the thread count (tested bit for bit), so this changes
    only its speed.
    """

    def __init__(self, threads: int) -> None:
        self.base = self.current = threads
        limit = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1
        cores = os.environ.get("GROKSCOPE_CORES", "")
        self.limit = min(limit, int(cores)) if cores.isdigit() and int(cores) > 0 else limit

    @staticmethod
    def other_steps() -> int:
        """How many other ``python -m grokscope <step>`` processes run on this machine."""
        count = 0
        for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
            try:
                argv = cmdline.read_bytes().split(b"\0")
            except OSError:  # ended meanwhile, or not ours to read
                continue
            if argv[1:3] == [b"-m", b"grokscope"] and int(cmdline.parent.name) != os.getpid():
                count += 1
        return count

    def __call__(self) -> None:
        want = self.base if self.other_steps() else max(self.base, self.limit)
        if want != self.current:
            set_threads(want)
            self.current = want


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
