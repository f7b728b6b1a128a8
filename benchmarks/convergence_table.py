"""Write README.md's "Convergence on the sample data" table from fresh runs.

    python benchmarks/convergence_table.py          # rewrite the table in README.md
    python benchmarks/convergence_table.py --check  # exit 1 if the README's table is stale

Epochs, stop reasons and warnings are deterministic (``--seed 0``) and are
what ``tests/test_docs.py`` compares with the README; the time column is the
median of three runs on the machine that ran the script, and only reported.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from losscli.losses import make_loss  # noqa: E402
from losscli.train import TrainRequest, train  # noqa: E402

START = "<!-- convergence-table: start (benchmarks/convergence_table.py writes it) -->"
END = "<!-- convergence-table: end -->"


@dataclass(frozen=True)
class Case:
    """One row: the flags as shown, the data file and the library call's keywords."""

    flags: str
    data: str
    keywords: dict[str, object]


CASES = (
    Case("`train` (mse)", "diabetes", {"loss": "mse"}),
    Case("`--loss huber --delta 20`", "diabetes", {"loss": "huber", "delta": 20.0}),
    Case("`--loss mae`", "diabetes", {"loss": "mae"}),
    Case("`--loss quantile --quantile 0.8`", "diabetes", {"loss": "quantile", "quantile": 0.8}),
    Case("`--loss poisson`", "diabetes", {"loss": "poisson"}),
    Case("`--l1 1`", "diabetes", {"loss": "mse", "l1": 1.0}),
    Case("`--loss bce --l2 0.01`", "breast_cancer", {"loss": "bce", "l2": 0.01}),
    Case("`--loss hinge`", "breast_cancer", {"loss": "hinge"}),
    Case("`--loss hinge --l2 0.01`", "breast_cancer", {"loss": "hinge", "l2": 0.01}),
    Case("`--loss ce --l2 0.01`", "iris", {"loss": "ce", "l2": 0.01}),
    Case("`--loss focal --gamma 2`", "imbalanced", {"loss": "focal", "gamma": 2.0}),
    Case("`--loss bce` (no penalty)", "breast_cancer", {"loss": "bce"}),
    Case("`--loss ce` (no penalty)", "iris", {"loss": "ce"}),
)


def request(case: Case) -> TrainRequest:
    keywords = dict(case.keywords)
    name = str(keywords.pop("loss"))
    penalties = {k: float(keywords.pop(k)) for k in ("l1", "l2") if k in keywords}  # type: ignore[arg-type]
    loss = make_loss(name, **keywords)
    return TrainRequest(str(ROOT / "sample_data" / f"{case.data}.csv"), loss, **penalties)


def outcome(case: Case) -> tuple[str, int, str]:
    """(stop reason, epochs, warning) of one run: the deterministic columns."""
    report = train(request(case))
    kinds = []
    if report.separable:
        kinds.append("separable")
    if report.fit.stop_reason.value == "max_epochs":
        kinds.append("epoch limit")
    if report.fit.stop_reason.value == "not_optimal" and not report.separable:
        kinds.append("not certified")
    stop = f"{report.fit.optimizer}: {report.fit.stop_reason.value}"  # what auto chose
    cert = report.fit.certificate
    if cert is not None:
        stop += f" ({cert.kind})"
    return stop, report.fit.epochs, ", ".join(kinds) or "—"


def rows(*, timed: bool) -> list[str]:
    out = []
    for case in CASES:
        stop, epochs, warning = outcome(case)
        cells = [case.flags, case.data, stop, f"{epochs:,}", warning]
        if timed:
            seconds = []
            for _ in range(3):
                started = time.perf_counter()
                outcome(case)
                seconds.append(time.perf_counter() - started)
            median = statistics.median(seconds)
            cells.append(f"{median * 1000:.0f} ms" if median < 1 else f"{median:.1f} s")
        out.append("| " + " | ".join(cells) + " |")
    return out


HEADER = [
    "| command | data | method: stop (certificate) | iterations | warning | time |",
    "|---|---|---|---|---|---:|",
]


def table_in(readme: str) -> list[str]:
    """The table's data rows as the README has them now."""
    start, end = readme.index(START), readme.index(END)
    return [line for line in readme[start:end].splitlines() if line.startswith("| `")]


def deterministic(row: str) -> list[str]:
    """A row without its time cell."""
    return [c.strip() for c in row.strip("|").split("|")][:5]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare, do not write")
    args = parser.parse_args()
    path = ROOT / "README.md"
    readme = path.read_text(encoding="utf-8")
    if args.check:
        fresh = [deterministic(r) for r in rows(timed=False)]
        stale = [deterministic(r) for r in table_in(readme)] != fresh
        print(
            "README convergence table is stale" if stale else "README convergence table is current"
        )
        return 1 if stale else 0
    body = "\n".join([START, *HEADER, *rows(timed=True), END])
    start, end = readme.index(START), readme.index(END) + len(END)
    path.write_text(readme[:start] + body + readme[end:], encoding="utf-8")
    print(body)
    return 0


if __name__ == "__main__":
    sys.exit(main())
