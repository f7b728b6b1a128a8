"""Process settings for the command line, applied before NumPy loads.

Two measured choices (2-core machine, benchmarks/run.py):

* BLAS on one thread.  OpenBLAS with 2 threads made Xᵀr on 1M×20 three
  times slower than with one (36 ms against 12 ms), and every training
  epoch is such products.  A user's own OPENBLAS_NUM_THREADS (or OMP_/MKL_)
  still wins: these are defaults only.
* glibc keeps freed memory in the heap.  By default a NumPy temporary of
  8 MB and more is mmap-ed and returned on free, so the next one faults
  fresh zeroed pages in: that was a third of a gradient's cost on 1M rows
  (MSE 1.66× → 1.18× the X·w + Xᵀr floor, BCE 2.76× → 1.81×).  Peak memory
  is unchanged: the same blocks come back.  No-op off glibc.

The library never calls this: it changes process-wide state, which only the
command line owns.
"""

from __future__ import annotations

import os
import sys

BLAS_THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
MMAP_THRESHOLD = 1 << 30  # allocations below 1 GiB come from the heap …
TRIM_THRESHOLD = 1 << 30  # … and up to 1 GiB of freed heap is kept for reuse
M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3  # glibc's mallopt parameter numbers


def tune_process() -> None:
    """One BLAS thread unless the user chose; heap reuse on glibc."""
    if not any(v in os.environ for v in BLAS_THREAD_VARIABLES):
        for variable in BLAS_THREAD_VARIABLES:
            os.environ[variable] = "1"
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        mallopt = ctypes.CDLL(None).mallopt
        mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)
        mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD)
    except (OSError, AttributeError, TypeError):
        return
