"""Suite-wide settings.

Under CI (``CI=true``, as ``.ci/run`` is invoked) hypothesis runs derandomized:
the property tests explore the same examples on every run, so a submission's
verdict never depends on the draw. Locally they draw fresh examples each run
(and replay stored failures), which is how new counterexamples are found.

``scheduler`` is an in-process Dask LocalCluster (two single-threaded
workers on 127.0.0.1) for each Dask test module; a test that kills workers
starts its own.

BLAS runs on one thread, as the command line sets it (``losscli._process``),
imported before NumPy loads: on a shared 2-core machine OpenBLAS's threads
made the resampling products of the evaluate tests six times slower, and
the library's results do not depend on the thread count.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

from losscli._process import BLAS_THREAD_VARIABLES

if not any(v in os.environ for v in BLAS_THREAD_VARIABLES):
    for variable in BLAS_THREAD_VARIABLES:
        os.environ[variable] = "1"

import pytest
from hypothesis import settings

settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
    settings.load_profile("ci")


@pytest.fixture(scope="module")
def scheduler() -> Iterator[str]:
    """The address of a LocalCluster for one module's Dask tests (127.0.0.1 only).

    Per module, not per session: a running cluster's threads draw on the global
    ``random`` state, which hypothesis (in later modules) reports as a misuse.
    """
    distributed = pytest.importorskip("distributed")
    from losscli.engine.dask import LOOPBACK_HTTP

    cluster = distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=False,
        protocol="tcp",
        host="127.0.0.1",
        dashboard_address=LOOPBACK_HTTP,
    )
    try:
        yield cluster.scheduler_address
    finally:
        cluster.close()
