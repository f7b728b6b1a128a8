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


def _train_help(option: str) -> str:
    (param,) = [p for p in cli.commands["train"].params if p.name == option]
    return " ".join(param.help.split())


def _per_optimizer(text: str, value: str, spec) -> bool:
    """``value`` is stated for ``spec`` by name (alone or in a group "v a, b, c"), or for
    the others (and then not by name)."""
    group = re.search(rf"{re.escape(value)} ((?:\w+, )*\w+)", text)
    named = any(
        spec.name in m.group(1).split(", ")
        for m in re.finditer(rf"{re.escape(value)} ((?:\w+, )*\w+)", text)
    )
    return named or (
        group is not None and f"{value} others" in text and not re.search(rf"\b{spec.name}\b", text)
    )


def test_train_help_shows_the_registry_defaults():
    """The help is generated from OptimizerSpec: every default it states is the spec's."""
    for spec in OPTIMIZERS.values():
        d = spec.defaults
        assert _per_optimizer(_train_help("epochs"), str(d.epochs), spec)
        assert _per_optimizer(_train_help("schedule"), f"{d.schedule} for", spec)
        tol = f"{d.tol:g}".replace("e-0", "e-")
        assert _per_optimizer(_train_help("tol"), tol, spec)
        assert f"({d.criterion})" in _train_help("tol")
        if spec.solver:
            assert spec.name == "auto" or spec.name in _train_help("lr").split("none for the")[1]
        elif spec.default_lr is None:
            assert f"automatic step for {spec.name}" in _train_help("lr")
        else:
            assert f"{spec.default_lr:g} {spec.name}" in _train_help("lr")
        if d.batch_size is not None:
            assert f"[default: {d.batch_size}]" in _train_help("batch_size")
        for hyper in spec.hyper:
            text = _train_help(hyper.name)
            assert f"[{spec.default(hyper.name):g}]" in text and spec.name in text


def test_hyperparameter_defaults_are_the_update_rules_own():
    """The stated default is the factory's keyword default: the rule that uses it."""
    import inspect

    for spec in OPTIMIZERS.values():
        for hyper in spec.hyper:
            declared = inspect.signature(spec.factory).parameters[hyper.name].default
            assert spec.default(hyper.name) == declared and isinstance(declared, float)


def _python_blocks() -> list[str]:
    section = README.split("## Python API", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```python\n(.+?)```", section, re.S)


def test_readme_python_api_examples_run(tmp_path, monkeypatch, capsys):
    """Every code block of the "Python API" section runs, in order, in one namespace."""
    blocks = _python_blocks()
    assert len(blocks) >= 2
    (tmp_path / "sample_data").symlink_to(ROOT / "sample_data")
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {}
    for block in blocks:
        exec(compile(block, "README.md", "exec"), namespace)
    assert (tmp_path / "model.json").exists()
    printed = capsys.readouterr().out
    assert "{'mse': " in printed and "--gamma is not a parameter of huber" in printed


def test_readme_development_table_names_files_that_exist():
    section = README.split("## Development", 1)[1]
    paths = set(re.findall(r"`(losscli/[\w/]+\.py|tests/\w+\.py)`", section))
    assert paths
    for path in paths:
        assert (ROOT / path).exists(), path
    for name in re.findall(r"`(\w+)`, `(losscli/[\w/]+\.py)`", section):
        assert name[0] in (ROOT / name[1]).read_text(), name
