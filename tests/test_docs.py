"""The README, the catalogue and the help texts cover everything there is."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from losscli.cli import cli
from losscli.fit.optimizers import OPTIMIZERS, SCHEDULES
from losscli.losses import LOSSES

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()


def test_readme_test_command_is_what_ci_runs():
    ci = (ROOT / ".ci" / "run").read_text().strip().splitlines()[-1]
    assert ci in README


def test_readme_first_command_installs_and_runs_compute_on_sample_data():
    first = re.search(r"```sh\n(.+?)\n```", README).group(1)
    assert "pip install ." in first and "losscli compute" in first and "sample_data/" in first


@pytest.mark.parametrize("name", list(LOSSES))
def test_every_loss_is_in_the_readme_catalogue(name):
    assert f"`{name}`" in README


@pytest.mark.parametrize("name", [*OPTIMIZERS, *SCHEDULES])
def test_every_optimizer_and_schedule_is_documented(name):
    assert f"`{name}`" in README


@pytest.mark.parametrize("command", list(cli.commands))
def test_every_command_has_help_with_an_example(command):
    r = CliRunner().invoke(cli, [command, "--help"])
    assert r.exit_code == 0
    assert "Examples:" in r.stdout and f"losscli {command}" in r.stdout


def test_readme_sample_files_exist():
    for path in set(re.findall(r"sample_data/[\w.]+\.csv", README)):
        assert (ROOT / path).exists(), path


def test_train_help_states_the_defaults_in_use():
    from losscli.fit.loop import DEFAULT_EPOCHS, DEFAULT_TOL

    text = " ".join(CliRunner().invoke(cli, ["train", "--help"]).stdout.split())
    for spec in OPTIMIZERS.values():
        if not spec.full_batch:
            assert f"{spec.default_lr:g} {spec.name}" in text
    assert f"{DEFAULT_EPOCHS['gd']} gd, {DEFAULT_EPOCHS['sgd']} others" in text
    assert f"{DEFAULT_EPOCHS['newton']} newton, {DEFAULT_EPOCHS['lbfgs']} lbfgs" in text
    assert DEFAULT_TOL == {"gd": 1e-12, "sgd": 1e-5, "solver": 1e-14}
    assert "1e-14 solvers (certified gap, relative), 1e-12 gd (gradient)" in text
