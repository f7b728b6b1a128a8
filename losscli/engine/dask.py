"""The Dask engine (``--engine dask``): the same numbers, computed by a cluster.

The input is a path, a glob or a folder of CSV / Parquet / … files, cut
into partitions the way Dask cuts them — CSV byte ranges on record
boundaries, runs of Parquet row groups, ``--partition-size`` each
(:mod:`losscli.engine.parts`, :mod:`losscli.engine.partplan`); each is read
on a worker by the same input layer the local engine uses, so a bad cell
gets the same message and the same row number (prefixed with its file for
many files).  Nothing is re-implemented here: a partition is turned into
the local engine's blocks, and the client adds up what the partitions
return (:class:`DaskRunner`; :func:`gather` raises the earliest
partition's error, the one a sequential read meets first).

* ``compute``: every partition returns its per-loss partial totals; the
  client adds them with ``math.fsum`` in partition order, as the local
  engine adds its blocks' (the same blocks), so the values agree to the bit;
  per-row output is a second pass over the partitions
  (:mod:`losscli.engine.rows_parts`).
* ``train``: the partitions' (X, y) are read once and kept on the workers
  (futures whose lineage is the read, so a lost worker's share is read
  again).  :class:`DaskSource` is a :class:`~losscli.fit.data.DataSource`:
  a solver's value, gradient or Hessian-vector product is one task per
  partition returning (d+1)·k numbers, summed exactly on the client.

Faults: a worker that dies is replaced by the nanny and its tasks rerun
from their lineage (Dask's own recomputation), which gives the same sums
since every partition is recomputed from the file.  If the cluster cannot
finish a step within :data:`STEP_TIMEOUT` seconds, or a task keeps killing
workers, the run ends with exit 1 and a one-line message, never a hang.

Without ``--scheduler`` (or ``DASK_SCHEDULER_ADDRESS``) the command starts
a ``LocalCluster`` on 127.0.0.1 — one single-threaded worker process per
core, no dashboard — and closes it at the end.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from losscli.errors import InputError, LossCliError, RunError

if TYPE_CHECKING:
    from numpy.typing import NDArray

    Array = NDArray[Any]

# distributed ships without complete type hints: its client, cluster and
# futures are Any here.
Client = Any
Future = Any

T = TypeVar("T")
ENGINES = ("local", "dask")
SCHEDULER_VARIABLE = "DASK_SCHEDULER_ADDRESS"
STEP_TIMEOUT = float(os.environ.get("LOSSCLI_DASK_TIMEOUT", "600"))  # seconds per gather
CONNECT_TIMEOUT = 30  # seconds to reach a --scheduler
AHEAD = 2  # partitions per worker computed ahead of a streaming client
# The scheduler always serves HTTP (its health routes); dashboard_address=None
# would bind that to 0.0.0.0:8787.  Loopback, any free port:
LOOPBACK_HTTP = "127.0.0.1:0"
INSTALL_FIX = "install the extra: pip install 'losscli[dask]'"


def _distributed() -> Any:
    """The distributed module, or an error that says how to install it."""
    try:
        import dask  # noqa: F401
        import distributed
    except ImportError:
        raise InputError("--engine dask needs dask and distributed", INSTALL_FIX) from None
    return distributed


# --------------------------------------------------------------------------- the cluster


def worker_count() -> int:
    """One worker process per core this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


@contextlib.contextmanager
def dask_client(scheduler: str | None = None) -> Iterator[Client]:
    """A client on ``scheduler`` (or $DASK_SCHEDULER_ADDRESS), else on a LocalCluster."""
    dist = _distributed()
    address = scheduler or os.environ.get(SCHEDULER_VARIABLE) or None
    if address:
        try:
            client = dist.Client(address, timeout=CONNECT_TIMEOUT)
        except (OSError, TimeoutError) as exc:
            raise RunError(
                f"cannot reach the Dask scheduler at {address}: {exc}",
                "check the address (tcp://HOST:8786) and that the scheduler runs",
            ) from None
        try:
            yield client
        finally:
            client.close()
        return
    # Workers inherit this process's environment, so the one-BLAS-thread
    # default of losscli._process applies to them too.
    cluster = dist.LocalCluster(
        n_workers=worker_count(),
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=LOOPBACK_HTTP,
        silence_logs=50,
    )
    try:
        with dist.Client(cluster) as client:
            yield client
    finally:
        cluster.close()


def gather(client: Client, futures: Sequence[Future]) -> list[Any]:
    """Results in order; a library error in a task is re-raised as itself.

    A task that keeps killing workers (KilledWorker), a cluster that does not
    answer within STEP_TIMEOUT, or a lost connection end the run with exit 1.
    """
    dist = _distributed()
    killed = dist.KilledWorker
    try:
        dist.wait(list(futures), timeout=STEP_TIMEOUT)
        for future in futures:  # the earliest partition's error: the one the local engine meets
            if future.status == "error":
                raise future.exception()
        out: list[Any] = client.gather(list(futures), errors="raise")
    except LossCliError:
        raise
    except killed as exc:
        raise RunError(
            f"the Dask cluster lost workers repeatedly while running {exc.task!r}",
            "check the workers' memory and logs, then run again",
        ) from None
    except (TimeoutError, OSError) as exc:
        what = "did not answer" if isinstance(exc, TimeoutError) else "was lost"
        raise RunError(
            f"the Dask cluster {what} within {STEP_TIMEOUT:g} s",
            f"check the scheduler and workers (timeout: ${'LOSSCLI_DASK_TIMEOUT'})",
        ) from None
    return out


class DaskRunner:
    """Runs a function over partitions on the cluster (:class:`losscli.engine.parts.Runner`)."""

    def __init__(self, client: Client) -> None:
        self.client = client

    def map(self, fn: Callable[..., T], *args: Sequence[Any]) -> list[T]:
        return gather(self.client, self.client.map(fn, *args, pure=False))

    def stream(self, fn: Callable[..., T], *args: Sequence[Any]) -> Iterator[T]:
        """Results in order, one at a time; at most :data:`AHEAD` per worker computed ahead
        (the workers hold what the client has not taken yet)."""
        calls = list(zip(*args, strict=True))
        ahead = AHEAD * max(1, len(self.client.scheduler_info().get("workers", {})))
        pending: list[Future] = []
        at = 0
        try:
            while at < len(calls) or pending:
                while at < len(calls) and len(pending) < ahead:
                    pending.append(self.client.submit(fn, *calls[at], pure=False))
                    at += 1
                first = pending.pop(0)
                yield gather(self.client, [first])[0]
        finally:
            for future in pending:
                future.cancel()


# --------------------------------------------------------------------------- the data source


def _apply(fn: Callable[[Any, Any, Any], T], data: tuple[Any, Any, Any]) -> T:
    x, y, w = data
    return fn(x, y, w)


class DaskSource:
    """Partitions (X_p, y_p, w_p) held on the workers, reduced on the client.

    ``reduce(fn)`` sends ``fn`` (a closure over θ: a few hundred bytes) to
    every partition and adds the returned tuples exactly
    (:func:`losscli.fit.data.sum_partials`) in partition order, so the
    result does not depend on which worker ran what, or on a rerun.
    """

    def __init__(
        self, client: Client, parts: Sequence[Future], n_rows: int, n_features: int
    ) -> None:
        self.client = client
        self.parts = list(parts)
        self._n_rows, self._n_features = n_rows, n_features
        self.steps = 0

    @property
    def n_rows(self) -> int:
        return self._n_rows

    @property
    def n_features(self) -> int:
        return self._n_features

    def reduce(self, fn: Callable[[Array, Array, Array | None], T]) -> T:
        from losscli.fit.data import sum_partials

        futures = self.client.map(_apply, [fn] * len(self.parts), self.parts, pure=False)
        parts = gather(self.client, futures)
        self.steps += 1
        result: Any = sum_partials(parts)
        return result  # type: ignore[no-any-return]

    def map(self, fn: Callable[[Array, Array, Array | None], T]) -> list[T]:
        """fn on every partition, results in partition order (predictions, metrics)."""
        futures = self.client.map(_apply, [fn] * len(self.parts), self.parts, pure=False)
        return gather(self.client, futures)
