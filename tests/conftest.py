"""Test-session settings shared by every test module.

BLAS on one thread, as the command line sets it (``losscli._process``):
imported before NumPy loads.  On a shared 2-core machine OpenBLAS's
threads made the resampling products of the evaluate tests six times
slower, and the library's results do not depend on the thread count.
"""

from __future__ import annotations

import os

from losscli._process import BLAS_THREAD_VARIABLES

if not any(v in os.environ for v in BLAS_THREAD_VARIABLES):
    for variable in BLAS_THREAD_VARIABLES:
        os.environ[variable] = "1"
