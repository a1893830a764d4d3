"""The README opens with the two commands, and CI runs the README's test command verbatim."""

import re

from ooi_status.migrate import ROOT


def readme_commands():
    text = (ROOT / "README.md").read_text()
    return re.findall(r"```bash\n(.+?)\n```", text, re.S)


def test_readme_opens_with_setup_and_test_commands():
    first, second = readme_commands()[:2]
    assert "python3.11 -m venv" in first and "ooi_status_demo" in first
    assert "'.[test]'" in second and "pytest" in second


def test_ci_runs_the_readme_test_command():
    test_command = readme_commands()[1]
    assert test_command in (ROOT / ".ci" / "run").read_text().splitlines()


def test_the_test_command_type_checks_the_package_before_the_tests():
    test_command = readme_commands()[1]
    assert "python -m mypy ooi_status && python -m pytest" in test_command
