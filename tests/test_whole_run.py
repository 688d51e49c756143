"""A develop-install of several projects is one change: whatever fails, in whichever project, the
environment ends as it was before the command, byte for byte.

Every project's backend runs before any project is written, so a failing build writes nothing; a
project whose install is refused after earlier ones were written puts them all back (a reinstall's
older install, a channel package replaced, a file kept under --force).  Each case runs through the
``conda-source`` command (a process) and through ``conda_source.api``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from lab import cli, records, write_project
from support import bad_backend_project, before, check_invariants, prefix_state, site_packages, tree_digest

from conda_source import api
from conda_source.errors import CondaSourceError
from conda_source.installer.installer import RattlerInstaller
from conda_source.target import probe

Run = Callable[[Path, list[str], tuple[str, ...]], str]  # (prefix, project paths, options) -> the error, one line


def through_cli(prefix: Path, paths: list[str], options: tuple[str, ...]) -> str:
    run = cli(prefix, *paths, *options)
    assert run.returncode == 1, (run.stdout, run.stderr)
    return run.stderr.splitlines()[-1].removeprefix("conda-source: error: ")


def through_api(prefix: Path, paths: list[str], options: tuple[str, ...]) -> str:
    channels = [options[options.index("-c") + 1]] if "-c" in options else []
    with pytest.raises(CondaSourceError) as caught:
        api.develop_install(*paths, prefix=prefix, channels=channels, force="--force" in options, user_mapping=False)
    return str(caught.value).splitlines()[-1]


FRONT_ENDS = [pytest.param(through_cli, id="cli"), pytest.param(through_api, id="api")]


def ok(run: subprocess.CompletedProcess[str]) -> None:
    assert run.returncode == 0, run.stderr


def with_lab_packages(prefix: Path, channel: Path) -> None:
    RattlerInstaller(probe(prefix), [str(channel)], command="test").install(["dependent", "clashpkg"])


@pytest.mark.parametrize("run", FRONT_ENDS)
@pytest.mark.parametrize("reinstall", [False, True], ids=["fresh", "reinstall"])
def test_a_failing_backend_of_a_later_project_changes_nothing(
    prefix: Path, tmp_path: Path, run: Run, reinstall: bool
) -> None:
    first = write_project(tmp_path / "first", "lab-proj", "1.0")
    if reinstall:  # an older develop install of the first project is there, and must stay as it is
        ok(cli(prefix, str(first)))
        write_project(first, "lab-proj", "2.0", scripts={"lab-proj-two": "lab_proj:main"})
    failing = bad_backend_project(tmp_path, "exit")
    digest, then = tree_digest(prefix), before(prefix)
    assert run(prefix, [str(first), str(failing)], ()) == (
        f"{failing}: build backend failed in build_editable: the backend exited with status 3; "
        "its output is above, fix what it reports and run again"
    )
    assert tree_digest(prefix) == digest
    check_invariants(prefix, then)


@pytest.mark.parametrize("run", FRONT_ENDS)
def test_a_refused_install_puts_every_earlier_project_back(
    prefix: Path, tmp_path: Path, lab_channel: Path, run: Run
) -> None:
    """A reinstall, a channel package replaced and a dependency linked, then a clash refused without --force."""
    with_lab_packages(prefix, lab_channel)
    first = write_project(tmp_path / "first", "lab-proj", "1.0")
    ok(cli(prefix, str(first)))
    write_project(first, "lab-proj", "2.0", dependencies=["helper-lib"], scripts={"lab-proj-two": "lab_proj:main"})
    replacing = write_project(tmp_path / "replacing", "chanpkg", "2.0", dependencies=["lab-proj"])
    clashing = write_project(
        tmp_path / "clashing", "clash-dev", dependencies=["chanpkg"], scripts={"clash-tool": "x:y"}
    )
    state, then = prefix_state(prefix), before(prefix, (lab_channel,))
    paths = [str(clashing), str(replacing), str(first)]  # written dependencies first: lab-proj, chanpkg, clash-dev
    assert run(prefix, paths, ("-c", str(lab_channel))) == (
        "clash-dev: would overwrite bin/clash-tool, which belongs to the conda package 'clashpkg'; remove that "
        "package, or pass --force to overwrite it (it is kept, and --uninstall puts it back)"
    )
    assert prefix_state(prefix) == state  # every file and record byte for byte (the history aside)
    history = (prefix / "conda-meta" / "history").read_text()[len(then.history) :]
    linked, undone = history.split("==> ")[1:3]  # helper-lib was linked by the run, then unlinked again
    assert "\n+file://" in linked and "helper-lib-1.0-" in linked
    assert "(undone)" in undone and "\n-file://" in undone and "helper-lib-1.0-" in undone
    check_invariants(prefix, then)


@pytest.mark.parametrize("run", FRONT_ENDS)
def test_a_refused_install_puts_back_what_force_overwrote(
    prefix: Path, tmp_path: Path, lab_channel: Path, run: Run
) -> None:
    """--force overwrote clashpkg's script in the first project; the last one's pip install cannot be taken over."""
    with_lab_packages(prefix, lab_channel)
    clashing = write_project(tmp_path / "clashing", "clash-dev", scripts={"clash-tool": "clash_dev:main"})
    taking_over = write_project(tmp_path / "taking-over", "pip-proj", dependencies=["clash-dev"])
    dist_info = site_packages(prefix) / "pip_proj-0.9.dist-info"
    dist_info.mkdir()
    (dist_info / "INSTALLER").write_text("pip\n")
    (dist_info / "METADATA").write_text("Metadata-Version: 2.1\nName: pip-proj\nVersion: 0.9\n")
    (dist_info / "RECORD").write_text("/etc/passwd,,\npip_proj-0.9.dist-info/RECORD,,\n")
    digest, then = tree_digest(prefix), before(prefix, (lab_channel,))
    relative = dist_info.relative_to(prefix).as_posix()
    assert run(prefix, [str(taking_over), str(clashing)], ("--force",)) == (
        f"pip-proj: not installed, since the pip install {relative} cannot be taken over; "
        "check that directory and remove it by hand, then run again"
    )
    assert tree_digest(prefix) == digest
    assert (prefix / "bin" / "clash-tool").read_text() == "#!/bin/sh\necho original clash-tool\n"
    check_invariants(prefix, then)


def needing_at_build(project: Path, needed: str, module: str) -> Path:
    """``project``'s build-system requires ``needed`` (a project of the same run), and its backend imports it."""
    pyproject = project / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace("requires = []", f'requires = ["{needed}"]', 1))
    backend = next((project / "_backend").glob("*.py"))
    backend.write_text(
        f"import {module}  # fails unless {needed} is installed when the build starts\n" + backend.read_text()
    )
    return project


def test_a_project_needed_to_build_another_is_installed_first(prefix: Path, tmp_path: Path) -> None:
    plugin = write_project(tmp_path / "plugin", "lab-plugin")
    user = needing_at_build(write_project(tmp_path / "user", "lab-user"), "lab-plugin", "lab_plugin")
    ok(cli(prefix, str(user), str(plugin)))
    assert sorted(p.name.rsplit("-", 2)[0] for p in (prefix / "conda-meta").glob("lab-*.json")) == [
        "lab-plugin",
        "lab-user",
    ]
    check_invariants(prefix)


@pytest.mark.parametrize("run", FRONT_ENDS)
def test_a_failing_build_after_a_project_it_needed_was_installed_puts_that_back(
    prefix: Path, tmp_path: Path, run: Run
) -> None:
    plugin = write_project(tmp_path / "plugin", "lab-plugin")
    failing = needing_at_build(bad_backend_project(tmp_path, "exit"), "lab-plugin", "lab_plugin")
    digest, then = tree_digest(prefix), before(prefix)
    assert run(prefix, [str(failing), str(plugin)], ()) == (
        f"{failing}: build backend failed in build_editable: the backend exited with status 3; "
        "its output is above, fix what it reports and run again"
    )
    assert tree_digest(prefix) == digest
    check_invariants(prefix, then)


def second_change_step(prefix: Path, paths: list[str], tmp_path: Path) -> str:
    """The fault that kills a run of ``paths`` once its second project's files are being written: a step
    counted in a run on a copy of the prefix."""
    copy = tmp_path / "copy"
    shutil.copytree(prefix, copy, symlinks=True)
    log = tmp_path / "steps.log"
    ok(cli(copy, *paths, log=log))
    steps = [line.split(" ", 1) for line in log.read_text().splitlines()]
    return "step:" + next(n for n, label in steps if label == "wrote __editable__.lab_two.pth")


@pytest.mark.parametrize("done", [False, True], ids=["before-the-commit-point", "after-it"])
def test_a_kill_is_undone_or_completed_for_every_project_of_the_run(prefix: Path, tmp_path: Path, done: bool) -> None:
    first = write_project(tmp_path / "first", "lab-proj", "1.0")
    second = write_project(tmp_path / "second", "lab-two", dependencies=["lab-proj"])
    paths = [str(second), str(first)]
    fault = "before-commit" if done else second_change_step(prefix, paths, tmp_path)
    then = before(prefix)
    assert cli(prefix, *paths, fault=fault).returncode == -signal.SIGKILL
    again = cli(prefix, *paths, "--json")
    ok(again)
    document = json.loads(again.stdout)
    verb = "completed" if done else "rolled back"
    pattern = rf"{verb} an interrupted change \(conda-meta/lab-proj-1\.0-\w+\.json, conda-meta/lab-two-1\.0-\w+\.json\)"
    assert re.fullmatch(pattern, document["recovered"]), document["recovered"]
    assert [p["unchanged"] for p in document["projects"]] == [done, done]  # completed: nothing left to do
    check_invariants(prefix, then)


@pytest.mark.parametrize("run", FRONT_ENDS)
def test_a_link_after_a_project_was_written_puts_back_only_directories_that_were_there(
    prefix: Path, tmp_path: Path, lab_channel: Path, run: Run
) -> None:
    """The first link of the run comes from the backend of a project built after another was written (it
    needs it), into a directory that one created; the build fails.  Both go, and the directory with them:
    the directories to put back are the ones before anything was written, not before the link."""
    with_lab_packages(prefix, lab_channel)
    plugin = write_project(tmp_path / "plugin", "lab-plugin", members={"helper_lib/from_plugin.py": ""})
    failing = needing_at_build(bad_backend_project(tmp_path, "exit"), "lab-plugin", "lab_plugin")
    backend = failing / "_backend" / "bad_backend.py"
    backend.write_text(
        backend.read_text()
        + '\n\ndef get_requires_for_build_editable(config_settings=None):\n    return ["helper-lib"]\n'
    )
    state, then = prefix_state(prefix), before(prefix, (lab_channel,))
    assert run(prefix, [str(failing), str(plugin)], ("-c", str(lab_channel))) == (
        f"{failing}: build backend failed in build_editable: the backend exited with status 3; "
        "its output is above, fix what it reports and run again"
    )
    assert prefix_state(prefix) == state  # every file and directory, and the records (the history aside)
    history = (prefix / "conda-meta" / "history").read_text()[len(then.history) :]
    assert "(undone)" in history and "\n-file://" in history and "helper-lib-1.0-" in history  # linked, unlinked
    check_invariants(prefix, then)


_LISTINGS: list[list[str]] = []  # while listed_during runs: the directories this process lists
_HOOKED: list[Callable[[str, tuple[object, ...]], None]] = []


def _audit(event: str, args: tuple[object, ...]) -> None:
    if _LISTINGS and event in ("os.scandir", "os.listdir") and isinstance(args[0], str | os.PathLike):
        _LISTINGS[-1].append(os.fspath(args[0]))


def listed_during(action: Callable[[], object]) -> list[Path]:
    """Every directory this process listed while ``action`` ran (the audit events of os.scandir and os.listdir)."""
    if _audit not in _HOOKED:
        sys.addaudithook(_audit)  # for the rest of the process: it records nothing outside listed_during
        _HOOKED.append(_audit)
    _LISTINGS.append([])
    try:
        action()
    finally:
        listed = _LISTINGS.pop()
    return [Path(path) for path in listed]


def test_a_run_that_links_nothing_never_walks_the_prefix(prefix: Path, tmp_path: Path, lab_channel: Path) -> None:
    """The directories a failure puts back are taken only once something is linked: with every dependency
    installed, a develop install lists no directory it has no business in (a prefix can hold tens of
    thousands).  One that links a dependency takes them all first."""
    with_lab_packages(prefix, lab_channel)
    aside = prefix / "share" / "aside"
    aside.mkdir(parents=True)
    present = write_project(tmp_path / "present", "lab-proj", dependencies=["dependent"])
    missing = write_project(tmp_path / "missing", "lab-two", dependencies=["helper-lib"])

    def develop(project: Path) -> None:
        api.develop_install(project, prefix=prefix, channels=[str(lab_channel)], user_mapping=False)

    listed = listed_during(lambda: develop(present))
    assert records(prefix, "lab-proj") and not records(prefix, "helper-lib")
    assert aside not in listed and listed  # what the install needs is still listed (site-packages, conda-meta)
    listed = listed_during(lambda: develop(missing))
    assert records(prefix, "lab-two") and records(prefix, "helper-lib")
    assert aside in listed
