"""Training data read block by block from an on-disk float64 cache.

When the design matrix does not fit the memory budget, ``train`` writes it
once to a cache (:class:`BlockFile`: raw C-order float64, the layout of a
NumPy memmap) and every solver sees it through :class:`BlockedSource`, a
data source whose ``reduce(fn)`` adds up ``fn(X_b, y_b, w_b)`` over blocks
of rows.  Full-batch values, gradients, Hessians and Hessian-vector
products are all such sums, so they equal the in-memory ones up to the
rounding of a different summation order.

Why reads and not a memmap: pages of a mapped file that the process has
touched count in its resident set (RSS) until the kernel is short of
memory, so one epoch over a memmap of 800 MB shows an 800 MB process.
``readinto`` a reused block buffer copies the same bytes out of the page
cache (a few GB/s) and keeps the process at one block, which is what
``--memory-limit`` promises.  A reader thread fetches block i+1 while the
caller works on block i (file reads and BLAS both release the GIL).

Streaming column statistics (:class:`ColumnStats`) merge per-block means
and centred sums of squares (Chan et al.'s pairwise update), so the
standard deviation is as accurate as NumPy's two-pass one on the whole
matrix and never overflows where the data do not.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np

from losscli.fit.data import sum_partials

if TYPE_CHECKING:
    from numpy.typing import NDArray

    Array = NDArray[Any]  # float64 by convention

T = TypeVar("T")
BLOCK_BYTES = 8 << 20  # of X per block: big enough to amortise calls, small enough for L3/RAM
MIN_BLOCK_ROWS = 1024


def block_rows(features: int, block_bytes: int = BLOCK_BYTES) -> int:
    """Rows per block for ``features`` float64 columns."""
    return max(MIN_BLOCK_ROWS, block_bytes // (8 * max(1, features)))


# --------------------------------------------------------------------------- the file


@dataclass
class BlockFile:
    """A float64 matrix of ``width`` columns appended to and read from a raw file.

    ``width`` 0 is a vector.  Rows are appended in order (:meth:`append`);
    :meth:`read` copies rows [start, stop) into a caller's buffer;
    :meth:`write` overwrites rows in place (the standardizing pass).
    """

    path: str
    width: int
    rows: int = 0
    _fd: int = field(default=-1, repr=False)

    def __post_init__(self) -> None:
        self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o600)

    @property
    def row_bytes(self) -> int:
        return 8 * max(1, self.width)

    def append(self, values: Array) -> None:
        data = np.ascontiguousarray(values, dtype=np.float64)
        if data.shape[1:] != self._shape_tail():
            raise ValueError(f"block of shape {data.shape} for a cache of width {self.width}")
        self._pwrite(data.data.cast("B"), self.rows * self.row_bytes)
        self.rows += len(data)

    def write(self, start: int, values: Array) -> None:
        data = np.ascontiguousarray(values, dtype=np.float64)
        self._pwrite(data.data.cast("B"), start * self.row_bytes)

    def read(self, start: int, stop: int, out: Array) -> Array:
        """Rows [start, stop) into the first stop − start rows of ``out``; that view."""
        view = out[: stop - start]
        buffer = view.data.cast("B")
        offset, done = start * self.row_bytes, 0
        while done < len(buffer):
            got = os.preadv(self._fd, [buffer[done:]], offset + done)
            if got <= 0:
                raise OSError(f"the training cache {self.path} ended early")
            done += got
        return view

    def buffer(self, rows: int) -> Array:
        return np.empty((rows, *self._shape_tail()))

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    def _shape_tail(self) -> tuple[int, ...]:
        return () if self.width == 0 else (self.width,)

    def _pwrite(self, data: memoryview, offset: int) -> None:
        done = 0
        while done < len(data):
            done += os.pwrite(self._fd, data[done:], offset + done)


# --------------------------------------------------------------------------- statistics


@dataclass
class ColumnStats:
    """Count, mean and centred sum of squares per column, merged block by block.

    Merging (n_a, μ_a, M_a) with (n_b, μ_b, M_b): δ = μ_b − μ_a,
    μ = μ_a + δ·n_b/n, M = M_a + M_b + δ²·n_a·n_b/n (Chan, Golub, LeVeque
    1979).  Each block's own μ and M are two-pass, so no sum of squares of
    raw values is ever formed.  The root mean square (for fits without an
    intercept) is kept as a scaled sum of squares: ‖x‖² = s²·Σ(x/s)² with
    s the largest |x| so far, as LAPACK's dnrm2 does, so it cannot overflow.
    """

    width: int
    n: int = 0
    mean: Array = field(default_factory=lambda: np.zeros(0))
    m2: Array = field(default_factory=lambda: np.zeros(0))
    scale: Array = field(default_factory=lambda: np.zeros(0))
    ssq: Array = field(default_factory=lambda: np.zeros(0))

    def __post_init__(self) -> None:
        self.mean, self.m2 = np.zeros(self.width), np.zeros(self.width)
        self.scale, self.ssq = np.zeros(self.width), np.zeros(self.width)

    def add(self, x: Array) -> None:
        nb = len(x)
        if nb == 0:
            return
        mb = x.mean(axis=0)
        m2b = ((x - mb) ** 2).sum(axis=0)
        n = self.n + nb
        delta = mb - self.mean
        self.mean = self.mean + delta * (nb / n)
        self.m2 = self.m2 + m2b + delta * delta * (self.n * nb / n)
        sb = np.abs(x).max(axis=0)
        new_scale = np.maximum(self.scale, sb)
        safe = np.where(new_scale > 0, new_scale, 1.0)
        ssqb = ((x / safe) ** 2).sum(axis=0)
        self.ssq = self.ssq * (self.scale / safe) ** 2 + ssqb
        self.scale = new_scale
        self.n = n

    def std(self) -> Array:
        """Population standard deviation (as ``x.std(axis=0)``)."""
        return np.sqrt(self.m2 / max(self.n, 1))

    def rms(self) -> Array:
        """Root mean square (as ``sqrt((x * x).mean(axis=0))``)."""
        return self.scale * np.sqrt(self.ssq / max(self.n, 1))


# --------------------------------------------------------------------------- the source


@dataclass
class BlockedSource:
    """Rows of a :class:`BlockFile` pair (X, y), summed over blocks.

    A :class:`~losscli.fit.data.DataSource`: ``reduce(fn)`` returns the
    exact (``fsum``) entry-by-entry sum of the tuples fn(X_b, y_b, None),
    which is what every full-batch solver needs; ``blocks()`` hands the blocks
    themselves to code that must see rows (metrics, predictions).
    """

    x: BlockFile
    y: BlockFile
    rows_per_block: int = 0
    prefetch: bool = True

    def __post_init__(self) -> None:
        if self.x.rows != self.y.rows:
            raise ValueError("features and labels of the cache differ in length")
        if self.rows_per_block <= 0:
            self.rows_per_block = block_rows(self.x.width)

    @property
    def n_rows(self) -> int:
        return self.x.rows

    @property
    def n_features(self) -> int:
        return self.x.width

    def __len__(self) -> int:
        return self.x.rows

    def spans(self) -> list[tuple[int, int]]:
        step, n = self.rows_per_block, self.n_rows
        return [(a, min(a + step, n)) for a in range(0, n, step)]

    def blocks(self, order: list[tuple[int, int]] | None = None) -> Iterator[tuple[Array, Array]]:
        """(X_b, y_b) views into two reused buffer pairs, read one block ahead.

        A view is valid until the next one is yielded; copy what must outlive it.
        """
        spans = self.spans() if order is None else order
        if not spans:
            return
        rows = max(b - a for a, b in spans)
        pairs = [(self.x.buffer(rows), self.y.buffer(rows)) for _ in range(2)]

        def load(i: int) -> tuple[Array, Array]:
            a, b = spans[i]
            bx, by = pairs[i % 2]
            return self.x.read(a, b, bx), self.y.read(a, b, by)

        if not self.prefetch or len(spans) == 1:
            for i in range(len(spans)):
                yield load(i)
            return
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="losscli-cache") as pool:
            ahead: Future[tuple[Array, Array]] = pool.submit(load, 0)
            for i in range(len(spans)):
                current = ahead.result()
                if i + 1 < len(spans):
                    ahead = pool.submit(load, i + 1)
                yield current

    def reduce(self, fn: Callable[[Array, Array, Array | None], T]) -> T:
        """Σ over blocks of fn(X_b, y_b, w_b) (w_b None: unweighted), summed exactly."""
        # Each part is computed before the next block is read into the same
        # buffer; fn returns new arrays (sums), never views of the block.
        parts: list[Any] = [fn(xb, yb, None) for xb, yb in self.blocks()]
        result: Any = sum_partials(parts)
        return result  # type: ignore[no-any-return]

    def shuffled_blocks(
        self, rng: np.random.Generator, block: int | None = None
    ) -> Iterator[tuple[Array, Array]]:
        """Blocks in a random order, rows shuffled within each: the mini-batch epoch.

        A whole-data permutation would need random reads of single rows; a
        random block order plus a shuffle inside each block of
        ``block`` rows (default: the read size) mixes as well for SGD at a
        sequential read's cost.
        """
        size = block or self.rows_per_block
        n = self.n_rows
        spans = [(a, min(a + size, n)) for a in range(0, n, size)]
        order = [spans[i] for i in rng.permutation(len(spans))]
        for xb, yb in self.blocks(order):
            perm = rng.permutation(len(xb))
            yield xb[perm], yb[perm]

    def take_all(self) -> tuple[Array, Array]:
        """Everything in memory (small caches and tests only)."""
        xs, ys = zip(*((xb.copy(), yb.copy()) for xb, yb in self.blocks()), strict=True)
        return np.concatenate(xs), np.concatenate(ys)
