"""Memory budgets: ``--memory-limit SIZE``, what is available, what a fit needs.

``train`` holds its design matrix in memory when it fits the budget and
spills it to an on-disk cache otherwise (see :mod:`losscli.engine.outofcore`).
The budget bounds the whole process: what the interpreter and libraries
already hold when the input is read (about 130 MB) counts against it.
The budget is ``--memory-limit`` when given, else :data:`DEFAULT_SHARE` of
the memory the kernel reports as available when the command starts
(``MemAvailable`` in ``/proc/meminfo``; on systems without it, of the
physical memory; inside a cgroup memory limit — a container, a batch job —
of the room left under it, when that is less).  Half leaves room for the
page cache that makes a spilled matrix cheap to re-read, and for the rest of
the machine.
"""

from __future__ import annotations

import os
import re

from losscli.errors import InputError

DEFAULT_SHARE = 0.5  # of the available memory, when --memory-limit is not given
FALLBACK_BYTES = 2 << 30  # when the platform tells us nothing
MIN_LIMIT = 1_000_000  # a budget for the data: below one block it means nothing
# The in-memory fit holds, per row: the matrix (d floats), its standardized
# copy (d floats) and about eight n-long vectors (labels, scores, residuals,
# gradients, the line search's trial scores).
VECTORS_PER_ROW = 8

_UNITS = {
    "": 1,
    "b": 1,
    "k": 1000,
    "kb": 1000,
    "m": 1000**2,
    "mb": 1000**2,
    "g": 1000**3,
    "gb": 1000**3,
    "t": 1000**4,
    "tb": 1000**4,
    "kib": 1 << 10,
    "mib": 1 << 20,
    "gib": 1 << 30,
    "tib": 1 << 40,
}
_SIZE = re.compile(r"\s*([0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?)\s*([a-zA-Z]*)\s*")


def parse_size(text: str, flag: str = "--memory-limit", minimum: int = MIN_LIMIT) -> int:
    """'200MB' → 200_000_000; '1.5GiB', '512M', '1e9' and plain bytes too.

    Decimal units (kB, MB, GB: powers of 1000) as ``ls --si`` and disk
    makers use them; binary ones spelled KiB, MiB, GiB.
    """
    match = _SIZE.fullmatch(text)
    unit = match.group(2).lower() if match else ""
    if match is None or unit not in _UNITS:
        raise InputError(
            f"{flag} {text!r} is not a size",
            "write a number with an optional unit: 200MB, 1.5GB, 512MiB",
        )
    size = int(float(match.group(1)) * _UNITS[unit])
    if size < minimum:
        raise InputError(
            f"{flag} {text} is below the {minimum // 1_000_000} MB a run needs at the least",
            "give a larger limit, such as 200MB",
        )
    return size


def available_bytes() -> int:
    """Memory the kernel could give this process now: MemAvailable (else physical
    memory), or less when a cgroup limit (a container's, a batch job's) leaves less."""
    room = cgroup_room()
    machine = _machine_available()
    return machine if room is None else min(machine, room)


def _machine_available() -> int:
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return FALLBACK_BYTES


# (folder of the hierarchy, limit file, usage file, reclaimable-cache key in memory.stat)
_CGROUP_V2 = ("", "memory.max", "memory.current", "inactive_file")
_CGROUP_V1 = ("memory", "memory.limit_in_bytes", "memory.usage_in_bytes", "total_inactive_file")
NO_LIMIT = 1 << 60  # cgroup v1 writes "no limit" as a huge page-rounded number


def cgroup_room(proc: str = "/proc/self/cgroup", root: str = "/sys/fs/cgroup") -> int | None:
    """Room under this process's cgroup memory limits (v2 or v1), None when none is set.

    MemAvailable is the machine's; inside a container or a job with a memory
    limit the kernel kills the process at the cgroup's limit long before.
    The room is limit − usage + inactive file cache (the page cache the kernel
    reclaims before it kills: the "working set" rule), the least over the
    cgroup and its ancestors, since each one's limit applies.
    """
    try:
        with open(proc, encoding="ascii") as f:
            entries = [line.rstrip("\n").split(":", 2) for line in f if line.count(":") >= 2]
    except OSError:
        return None
    rooms = []
    for _, controllers, path in entries:
        if controllers == "":
            layout = _CGROUP_V2
        elif "memory" in controllers.split(","):
            layout = _CGROUP_V1
        else:
            continue
        folder = os.path.join(root, layout[0])
        parts = [p for p in path.split("/") if p]
        for depth in range(len(parts), -1, -1):
            room = _room_in(os.path.join(folder, *parts[:depth]), layout)
            if room is not None:
                rooms.append(room)
    return min(rooms) if rooms else None


def _room_in(folder: str, layout: tuple[str, str, str, str]) -> int | None:
    _, limit_file, usage_file, cache_key = layout
    try:
        with open(os.path.join(folder, limit_file), encoding="ascii") as f:
            text = f.read().strip()
        if text == "max" or int(text) >= NO_LIMIT:
            return None
        limit = int(text)
        with open(os.path.join(folder, usage_file), encoding="ascii") as f:
            usage = int(f.read().strip())
        cache = 0
        with open(os.path.join(folder, "memory.stat"), encoding="ascii") as f:
            for line in f:
                key, _, value = line.partition(" ")
                if key == cache_key:
                    cache = int(value)
    except (OSError, ValueError):
        return None
    return max(0, limit - usage + cache)


def default_limit() -> int:
    """The budget without ``--memory-limit``: a share of the available memory."""
    return max(MIN_LIMIT, int(DEFAULT_SHARE * available_bytes()))


def resolve_limit(text: str | None) -> int:
    """``--memory-limit`` as bytes, or the default budget."""
    return default_limit() if text is None else parse_size(text)


def resident_bytes() -> int:
    """This process's resident memory now (the interpreter, libraries, what it holds)."""
    try:
        with open("/proc/self/statm", encoding="ascii") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError, AttributeError):
        import resource

        return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) * 1024


def data_budget(limit: int) -> int:
    """What the training data may take of ``limit``: the limit minus what the process holds.

    ``--memory-limit`` bounds the whole process, so the interpreter and the
    libraries (about 130 MB for train) count against it.
    """
    return max(0, limit - resident_bytes())


def in_memory_bytes(rows: int, features: int, outputs: int = 1) -> int:
    """What an in-memory fit of ``rows`` × ``features`` needs, in bytes (an estimate)."""
    return 8 * rows * (2 * features + VECTORS_PER_ROW * max(1, outputs))


def resolve_limit_bytes(limit: int | None) -> int:
    """A budget in bytes, or the default one."""
    return default_limit() if limit is None else limit
