"""Suite-wide settings.

Under CI (``CI=true``, as ``.ci/run`` is invoked) hypothesis runs derandomized:
the property tests explore the same examples on every run, so a submission's
verdict never depends on the draw. Locally they draw fresh examples each run
(and replay stored failures), which is how new counterexamples are found.

BLAS runs on one thread, as the command line sets it (``losscli._process``),
imported before NumPy loads: on a shared 2-core machine OpenBLAS's threads
made the resampling products of the evaluate tests six times slower, and
the library's results do not depend on the thread count.
"""

from __future__ import annotations

import os

from losscli._process import BLAS_THREAD_VARIABLES

if not any(v in os.environ for v in BLAS_THREAD_VARIABLES):
    for variable in BLAS_THREAD_VARIABLES:
        os.environ[variable] = "1"

from hypothesis import settings

settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
    settings.load_profile("ci")
