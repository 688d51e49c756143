"""README's two set-up commands are the ones CI runs, so they cannot rot."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).parents[1]


def readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    section = text.split("## Set-up: the two commands", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```bash\n(.+?)\n```", section)


def test_readme_has_two_setup_commands() -> None:
    commands = readme_commands()
    assert len(commands) == 2
    assert "conda_source.testing prefix" in commands[0] and "conda-source develop-install" in commands[0]
    assert "pytest" in commands[1]


def test_ci_runs_both_readme_commands_verbatim() -> None:
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    for command in readme_commands():
        assert command in ci
