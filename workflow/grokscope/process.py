"""Process-wide settings, applied once at the process boundary (the CLI entry point).

Library functions never change these: a notebook or a test that imports grokscope keeps its
own thread count and allocator.
"""

from __future__ import annotations

import ctypes
import sys

# glibc's mallopt parameters (malloc.h).
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3


def set_threads(threads: int) -> None:
    """Use exactly ``threads`` torch CPU threads (Snakemake schedules by the rule's
    ``threads``) and say so on stderr."""
    import torch

    torch.set_num_threads(threads)
    print(f"torch threads: {torch.get_num_threads()}", file=sys.stderr)


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
