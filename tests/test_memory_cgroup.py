"""The default memory budget sees a cgroup's limit (containers, batch jobs), v1 and v2."""

from __future__ import annotations

from pathlib import Path

from losscli.engine.memory import cgroup_room

GIB = 1 << 30


def _write(folder: Path, files: dict[str, str]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text)


def test_v2_room_is_limit_minus_usage_plus_inactive_cache(tmp_path: Path) -> None:
    proc = tmp_path / "cgroup"
    proc.write_text("0::/job/step\n")
    root = tmp_path / "fs"
    _write(root, {"memory.max": "max\n"})
    _write(root / "job", {"memory.max": "max\n"})
    stat = "anon 100\nfile 900\ninactive_file 300000000\nactive_file 5\n"
    _write(
        root / "job" / "step",
        {"memory.max": f"{2 * GIB}\n", "memory.current": f"{GIB}\n", "memory.stat": stat},
    )
    assert cgroup_room(str(proc), str(root)) == 2 * GIB - GIB + 300_000_000


def test_the_tightest_ancestor_limit_wins(tmp_path: Path) -> None:
    proc = tmp_path / "cgroup"
    proc.write_text("0::/a/b\n")
    root = tmp_path / "fs"
    stat = "inactive_file 0\n"
    _write(root / "a", {"memory.max": f"{GIB}\n", "memory.current": "0\n", "memory.stat": stat})
    _write(
        root / "a" / "b",
        {"memory.max": f"{8 * GIB}\n", "memory.current": "0\n", "memory.stat": stat},
    )
    assert cgroup_room(str(proc), str(root)) == GIB


def test_v1_memory_controller_and_its_unlimited_marker(tmp_path: Path) -> None:
    proc = tmp_path / "cgroup"
    proc.write_text("5:cpu,cpuacct:/x\n4:memory:/x\n0::/\n")
    root = tmp_path / "fs"
    v1 = root / "memory"
    _write(v1, {"memory.limit_in_bytes": "9223372036854771712\n"})
    _write(
        v1 / "x",
        {
            "memory.limit_in_bytes": "1200000000\n",
            "memory.usage_in_bytes": "1000000000\n",
            "memory.stat": "cache 5\ntotal_inactive_file 400000000\n",
        },
    )
    assert cgroup_room(str(proc), str(root)) == 600_000_000
    (v1 / "x" / "memory.limit_in_bytes").write_text("9223372036854771712\n")
    assert cgroup_room(str(proc), str(root)) is None  # no limit anywhere


def test_no_cgroup_information_means_no_limit(tmp_path: Path) -> None:
    assert cgroup_room(str(tmp_path / "missing"), str(tmp_path)) is None
    proc = tmp_path / "cgroup"
    proc.write_text("0::/\n")
    assert cgroup_room(str(proc), str(tmp_path / "no-fs")) is None


def test_usage_past_the_limit_leaves_no_room(tmp_path: Path) -> None:
    proc = tmp_path / "cgroup"
    proc.write_text("0::/\n")
    _write(
        tmp_path / "fs",
        {"memory.max": "100\n", "memory.current": "500\n", "memory.stat": "inactive_file 0\n"},
    )
    assert cgroup_room(str(proc), str(tmp_path / "fs")) == 0
