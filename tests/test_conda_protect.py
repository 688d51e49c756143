"""Develop installs survive later conda commands (conda_source.cli.conda_protect, issue 14).

The conda-marked tests run real conda with the solver CONDA_SOLVER names (see test_conda_plugin), on a prefix
with a develop install of in-tree-editable 0.4.0 and a channel that offers in-tree-editable 0.1 only.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from support import copy_project
from test_conda_plugin import SOLVER, conda, conda_env, listed
from wheelmaker import make_wheel

from conda_source import api
from conda_source.cli import conda_protect as protect
from conda_source.testing.channel import make_channel


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return copy_project("in-tree-editable", tmp_path)


def test_pins_keep_every_develop_install_the_command_does_not_name(prefix: Path, project: Path) -> None:
    api.develop_install(project, prefix=prefix, user_mapping=False)
    (record,) = (prefix / "conda-meta").glob("in-tree-editable-*.json")
    build = record.stem.rsplit("-", 1)[1]
    assert protect.pins(prefix, named=["other"]) == [f"in-tree-editable ==0.4.0 {build}"]
    assert protect.pins(prefix, named=["in-tree-editable"]) == []
    assert (
        str(protect.develop_installs(prefix)["in-tree-editable"])
        == f"in-tree-editable 0.4.0 (develop install of {project})"
    )


def test_a_folder_without_conda_meta_has_no_develop_installs(tmp_path: Path) -> None:
    assert protect.develop_installs(tmp_path) == {}


def test_a_hint_about_a_develop_install_never_fails_on_its_damaged_state(
    prefix: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """conda's error hints run while conda reports an error: a state file that cannot be read is passed by."""
    from conda_source.meta import conda_meta

    conda_meta.state_path(prefix, "gone").parent.mkdir(parents=True, exist_ok=True)
    conda_meta.state_path(prefix, "gone").write_text("{", encoding="utf-8")
    monkeypatch.setattr(protect, "_target_prefix", lambda: prefix)
    monkeypatch.setattr(protect, "_arguments", lambda: {})
    error = RuntimeError("PackagesNotFoundError: local-develop::gone-1.0-editable_h0123abcd_0")
    assert (
        f"gone was a develop install; conda cannot download it. Re-create it with conda develop-install "
        f"PATH-OF-ITS-CHECKOUT -p {prefix}, then run the command again.",
        "conda_source_develop_install_missing",
    ) in list(protect.error_hints(error))


@pytest.fixture
def home(tmp_path: Path) -> Path:
    (tmp_path / "home").mkdir()
    return tmp_path / "home"


@pytest.fixture
def developed(home: Path, prefix: Path, project: Path, tmp_path: Path) -> tuple[Path, str]:
    """env with a develop install of in-tree-editable 0.4.0; a channel with 0.1, other-pkg, needs-old (<0.2)."""
    channel = tmp_path / "channel"
    wheels = [
        make_wheel(tmp_path, name="in_tree_editable", version="0.1"),
        make_wheel(tmp_path, name="other_pkg", version="1.0"),
        make_wheel(tmp_path, name="needs_old", version="1.0", requires=("in-tree-editable<0.2",)),
    ]
    make_channel(channel, wheels)
    result = conda(home, "develop-install", str(project), "-p", str(prefix), "--no-user-mapping", "-y", *SOLVER)
    assert result.returncode == 0, result.stderr
    return prefix, channel.as_uri()


def run(home: Path, developed: tuple[Path, str], *args: str) -> tuple[int, str]:
    env, channel = developed
    result = conda(home, *args, "-p", str(env), "-c", channel, "--override-channels", "--offline", *SOLVER)
    return result.returncode, result.stderr + result.stdout


def kept(home: Path, env: Path) -> bool:
    (row,) = [row for row in listed(home, env) if row["name"] == "in-tree-editable"]
    return row["channel"] == "local-develop" and row["version"] == "0.4.0"


KEPT_HINT = (
    "in-tree-editable 0.4.0 (develop install of {project}) is kept by conda-source. To let conda replace it, name "
    "it: conda install in-tree-editable; to give it up, run conda develop-install --uninstall {project}."
)


@pytest.mark.conda
def test_update_all_keeps_a_develop_install(home: Path, developed: tuple[Path, str]) -> None:
    code, output = run(home, developed, "update", "--all", "-y")
    assert code == 0, output
    assert kept(home, developed[0])


@pytest.mark.conda
def test_install_other_keeps_a_develop_install(home: Path, developed: tuple[Path, str]) -> None:
    code, output = run(home, developed, "install", "other-pkg", "-y")
    assert code == 0, output
    assert kept(home, developed[0]) and "other-pkg" in [row["name"] for row in listed(home, developed[0])]
    # conda's history names the develop install as conda does (channel/subdir::dist): conda's transaction
    # records only what it changed, not the develop install as if it had been replaced.
    last = (developed[0] / "conda-meta" / "history").read_text().split("==> ")[-1]
    assert "other-pkg" in last and "local-develop" not in last, last


@pytest.mark.conda
def test_a_damaged_state_does_not_stop_condas_commands(home: Path, developed: tuple[Path, str]) -> None:
    """conda-source's state file beside the record unreadable (a crash of the machine): the plugin's hooks go on
    without it, so conda's own commands work and the develop install is still kept."""
    from conda_source.meta import conda_meta

    conda_meta.state_path(developed[0], "in-tree-editable").write_text("", encoding="utf-8")
    code, output = run(home, developed, "install", "other-pkg", "-y")
    assert code == 0, output
    assert kept(home, developed[0]) and "other-pkg" in [row["name"] for row in listed(home, developed[0])]


@pytest.mark.conda
def test_a_damaged_record_stops_conda_with_a_message_not_an_error_report(
    home: Path, developed: tuple[Path, str]
) -> None:
    """Another package's record unreadable: the plugin's hooks read the records before conda does, and say
    what to do in one line (conda's error report, a traceback, before)."""
    damaged = developed[0] / "conda-meta" / "broken-1.0-0.json"
    damaged.write_text("", encoding="utf-8")
    code, output = run(home, developed, "install", "other-pkg", "-y")
    assert code == 1
    assert "ERROR REPORT" not in output and "Traceback" not in output, output
    assert f"{damaged}: not a readable conda-meta record (the file is empty)" in output, output


@pytest.mark.conda
def test_install_other_that_needs_another_version_fails_with_a_hint(
    home: Path, developed: tuple[Path, str], project: Path
) -> None:
    code, output = run(home, developed, "install", "needs-old", "-y")
    assert code == 1
    assert KEPT_HINT.format(project=project) in output
    assert kept(home, developed[0])


@pytest.mark.conda
def test_install_name_says_it_replaces_the_develop_install_and_asks(
    home: Path, developed: tuple[Path, str], project: Path
) -> None:
    env, channel = developed
    notice = f"conda-source: in-tree-editable 0.4.0 (develop install of {project}): this transaction replaces it with "
    code, output = run(home, developed, "install", "in-tree-editable", "--dry-run")
    assert code == 0 and notice in output, output
    declined = subprocess.run(
        [sys.executable, "-m", "conda", "install", "in-tree-editable", "-p", str(env), "-c", channel, "--offline"],
        input="n\n",
        capture_output=True,
        text=True,
        env=conda_env(home),
    )
    assert "Proceed ([y]/n)?" in declined.stdout and notice in declined.stderr
    assert kept(home, env)
    code, output = run(home, developed, "install", "in-tree-editable", "-y")
    assert code == 0 and notice in output, output
    (row,) = [row for row in listed(home, env) if row["name"] == "in-tree-editable"]
    assert row["version"] == "0.1" and row["channel"] != "local-develop"


@pytest.mark.conda
def test_remove_name_removes_the_develop_install(home: Path, developed: tuple[Path, str], project: Path) -> None:
    code, output = run(home, developed, "remove", "in-tree-editable", "-y")
    assert code == 0, output
    assert (
        f"conda-source: in-tree-editable 0.4.0 (develop install of {project}): this transaction removes it." in output
    )
    assert "in-tree-editable" not in [row["name"] for row in listed(home, developed[0])]


@pytest.mark.conda
def test_without_pins_a_solve_that_drops_the_develop_install_is_refused(
    home: Path, developed: tuple[Path, str], project: Path
) -> None:
    code, output = run(home, developed, "install", "needs-old", "--no-pin", "-y")
    assert code == 1
    message = (
        f"DevelopInstallProtectedError: in-tree-editable 0.4.0 (develop install of {project}): the solver would "
        "replace it with "
    )
    (line,) = [line for line in output.splitlines() if line.startswith("DevelopInstallProtectedError")]
    assert line.startswith(message) and line.endswith(
        " though the command does not name in-tree-editable; name it (conda install in-tree-editable / "
        "conda remove in-tree-editable) to replace or remove it"
    )
    assert kept(home, developed[0])


@pytest.mark.conda
def test_a_revision_with_a_develop_install_says_how_to_get_it_back(
    home: Path, developed: tuple[Path, str], project: Path
) -> None:
    assert run(home, developed, "install", "in-tree-editable", "-y")[0] == 0
    # Revision 0 is the new environment (python), 1 the develop install, 2 its replacement from the channel.
    assert run(home, developed, "install", "--revision", "0", "-y")[0] == 0
    code, output = run(home, developed, "install", "--revision", "1", "-y")
    assert code == 1
    assert (
        f"in-tree-editable was a develop install of {project}; conda cannot download it. Re-create it with conda "
        f"develop-install {project} -p {developed[0]}, then run the command again."
    ) in output
