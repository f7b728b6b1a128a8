"""The out-of-core pieces: sizes, the block cache, streaming statistics, cleanup."""

from __future__ import annotations

import math
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from losscli.engine.cache import PREFIX, Terminated, cache_folder
from losscli.engine.memory import in_memory_bytes, parse_size, resolve_limit
from losscli.errors import InputError
from losscli.fit.blocked import BlockedSource, BlockFile, ColumnStats
from losscli.fit.data import InMemory


@pytest.mark.parametrize(
    ("text", "size"),
    [
        ("200MB", 200_000_000),
        ("200mb", 200_000_000),
        ("1.5GB", 1_500_000_000),
        ("512MiB", 512 << 20),
        ("64M", 64_000_000),
        ("1e9", 1_000_000_000),
        ("2 GiB", 2 << 30),
    ],
)
def test_parse_size(text: str, size: int) -> None:
    assert parse_size(text) == size


@pytest.mark.parametrize("text", ["lots", "200XB", "-5MB", "", "1kB"])
def test_parse_size_refuses(text: str) -> None:
    with pytest.raises(InputError, match="memory-limit"):
        parse_size(text)


def test_default_limit_is_a_share_of_available_memory() -> None:
    assert resolve_limit(None) >= 1 << 20
    assert resolve_limit("300MB") == 300_000_000
    assert in_memory_bytes(1000, 20) == 8 * 1000 * (40 + 8)


def _source(tmp_path: Path, x: np.ndarray, y: np.ndarray, rows: int, step: int) -> BlockedSource:
    src = BlockedSource(
        BlockFile(str(tmp_path / "x"), x.shape[1]),
        BlockFile(str(tmp_path / "y"), 0),
        rows_per_block=rows,
    )
    for a in range(0, len(x), step):
        src.x.append(x[a : a + step])
        src.y.append(y[a : a + step])
    return src


def test_blocked_reduce_equals_in_memory(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    x, y = rng.normal(size=(5003, 4)), rng.normal(size=5003)
    src = _source(tmp_path, x, y, rows=700, step=1234)
    assert (src.n_rows, src.n_features) == (5003, 4)

    def block(xb: np.ndarray, yb: np.ndarray, w: np.ndarray | None) -> tuple[float, np.ndarray]:
        return float(yb @ yb), xb.T @ yb

    ss, g = src.reduce(block)
    ss0, g0 = InMemory(x, y).reduce(block)
    np.testing.assert_allclose(g, g0, rtol=1e-13)
    assert ss == pytest.approx(ss0, rel=1e-14)
    xa, ya = src.take_all()
    assert np.array_equal(xa, x) and np.array_equal(ya, y)


def test_shuffled_blocks_visit_every_row_once(tmp_path: Path) -> None:
    x = np.arange(3001.0)[:, None] * np.ones((1, 2))
    src = _source(tmp_path, x, x[:, 0].copy(), rows=1024, step=3001)
    seen = np.concatenate([yb for _, yb in src.shuffled_blocks(np.random.default_rng(0))])
    assert sorted(seen.tolist()) == list(range(3001))
    assert seen.tolist() != list(range(3001))


def test_column_stats_match_two_pass_numpy_far_from_zero() -> None:
    rng = np.random.default_rng(1)
    # mean 1e8, spread 1: a naive Σx² − n·μ² loses every digit here
    x = 1e8 + rng.normal(size=(20_000, 3)) * np.array([1.0, 1e-3, 0.0])
    stats = ColumnStats(3)
    for a in range(0, len(x), 1777):
        stats.add(x[a : a + 1777])
    exact = np.array([math.fsum(col) / len(x) for col in x.T])  # NumPy's axis-0 mean is naive
    np.testing.assert_allclose(stats.mean, exact, rtol=1e-15)
    # x − μ is exact here (Sterbenz), so fsum of its squares is the reference
    ref = np.array(
        [math.sqrt(math.fsum((col - m) ** 2) / len(x)) for col, m in zip(x.T, exact, strict=True)]
    )
    np.testing.assert_allclose(stats.std(), ref, rtol=1e-9)  # the reference μ is rounded too
    assert stats.std()[2] == 0.0
    np.testing.assert_allclose(stats.rms(), np.sqrt((x * x).mean(axis=0)), rtol=1e-14)


def test_column_stats_do_not_overflow() -> None:
    x = np.full((1000, 1), 1e300)
    x[::2] = -1e300
    stats = ColumnStats(1)
    stats.add(x[:500])
    stats.add(x[500:])
    assert stats.rms()[0] == pytest.approx(1e300)
    assert stats.std()[0] == pytest.approx(1e300)


def test_cache_folder_is_removed_after_errors(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError), cache_folder(str(tmp_path)) as folder:
        Path(folder, "x").write_bytes(b"data")
        raise RuntimeError
    assert not any(p.name.startswith(PREFIX) for p in tmp_path.iterdir())


def test_cache_folder_turns_sigterm_into_cleanup(tmp_path: Path) -> None:
    with pytest.raises(Terminated), cache_folder(str(tmp_path)) as folder:
        Path(folder, "x").write_bytes(b"data")
        os.kill(os.getpid(), signal.SIGTERM)
    assert list(tmp_path.iterdir()) == []
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL


def test_cache_dir_must_exist(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cache-dir"), cache_folder(str(tmp_path / "nope")):
        pass


def test_sigterm_during_a_spilled_train_leaves_no_cache(tmp_path: Path) -> None:
    """A real process: SIGTERM while it trains out of core removes the cache folder."""
    data = tmp_path / "big.csv"
    rng = np.random.default_rng(0)
    x = rng.normal(size=(60_000, 5))
    y = x @ np.arange(1.0, 6.0) + rng.normal(size=60_000)
    np.savetxt(data, np.column_stack([x, y]), delimiter=",", header="a,b,c,d,e,y", comments="")
    cache = tmp_path / "cache"
    cache.mkdir()
    script = textwrap.dedent(
        f"""
        import sys
        from losscli.cli import main
        sys.argv = ["losscli", "train", {str(data)!r}, "--memory-limit", "1MiB",
                    "--cache-dir", {str(cache)!r}, "--optimizer", "gd", "--lr", "1e-9",
                    "--epochs", "100000", "--tol", "0", "-f", "json"]
        main()
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", script], stderr=subprocess.PIPE)
    try:
        for _ in range(600):  # wait for the cache to appear (up to 60 s)
            if any(cache.iterdir()):
                break
            if proc.poll() is not None:
                pytest.fail(f"train ended early: {proc.stderr.read().decode()}")  # type: ignore[union-attr]
            import time

            time.sleep(0.1)
        assert any(cache.iterdir())
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode != 0
    assert list(cache.iterdir()) == []
