"""Fast start-up: commands that compute nothing never import NumPy or pandas.

Each command runs in a fresh interpreter (imports are process-wide), and the
test reads ``sys.modules`` at the end; it never measures time.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = ("numpy", "pandas", "pyarrow", "scipy", "sklearn", "torch")

PROBE = """
import json, sys
from losscli.cli import cli
try:
    cli.main(args=sys.argv[1:], prog_name="losscli", standalone_mode=False)
except SystemExit:
    pass
heavy = sorted({m.split(".")[0] for m in sys.modules} & set(HEAVY))
sys.__stdout__.write("\\n" + json.dumps(heavy) + "\\n")
"""


def loaded(*args: str) -> list[str]:
    """Heavy top-level packages imported by running ``losscli ARGS``."""
    code = f"HEAVY = {HEAVY!r}\n" + PROBE
    out = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout.splitlines()[-1])


@pytest.mark.parametrize(
    "args",
    [
        ("--help",),
        ("--version",),
        ("losses",),
        ("losses", "focal"),
        ("losses", "--format", "json"),
        ("compute", "--help"),
    ],
    ids=" ".join,
)
def test_commands_that_compute_nothing_stay_light(args):
    assert loaded(*args) == []


def test_importing_the_package_and_cli_is_light():
    code = (
        "import sys, losscli, losscli.cli, losscli.losses, losscli.losses.links, "
        "losscli.cli.render_compute, losscli.compute, losscli.io.formats, "
        "losscli.losses.gradcheck\n"
        f"print(sorted({{m.split('.')[0] for m in sys.modules}} & set({HEAVY!r})))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_the_probe_sees_heavy_imports(tmp_path):
    """The probe itself works: computing does load NumPy and pandas."""
    path = tmp_path / "in.csv"
    path.write_text("y_true,y_pred\n1,1.5\n")
    heavy = set(loaded("compute", "-l", "mse", "-f", "value", str(path)))
    assert "numpy" in heavy
    assert heavy & {"pandas", "pyarrow"}


def test_machine_formats_do_not_load_rich(tmp_path):
    path = tmp_path / "in.csv"
    path.write_text("y_true,y_pred\n1,1.5\n")
    code = (
        "import sys\nfrom losscli.cli import cli\ntry:\n"
        "    cli.main(args=sys.argv[1:], standalone_mode=False)\n"
        "except SystemExit:\n    pass\n"
        "sys.__stdout__.write('\\n' + str('rich' in sys.modules))"
    )
    for fmt in ("value", "tsv", "json"):
        args = ["compute", "-l", "mse", "-f", fmt, str(path)]
        out = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True)
        assert out.stdout.splitlines()[-1] == "False", fmt
