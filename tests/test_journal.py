"""Interrupted develop-installs leave the prefix as before or complete, never half-done.

Each test kills a real ``conda-source`` process (SIGKILL, as a power cut would) at a
named point, then checks the prefix from outside.  The project uses an in-tree
backend, so no channel is needed.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from support import check_record_matches_disk, copy_project, local_project, site_packages, tree_digest

from conda_source.engine.develop_install import DevelopRequest, develop_install
from conda_source.mapping.overrides import Overrides
from conda_source.meta.journal import FAULT_ENV, Journal
from conda_source.target import host_subdir, probe
from conda_source.testing import make_test_prefix

JOURNAL = Path("conda-meta") / "conda-source" / "journal" / "1" / "journal.json"  # the run's first change

NO_USER_MAPPING = Overrides(user_file=False)

SUBDIR = host_subdir()  # develop records' subdir, as conda's history names them


def run_cli(prefix: Path, project: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "conda_source", "develop-install", str(project), "-p", str(prefix)]
    return subprocess.run(
        [*command, "--no-user-mapping", *args], capture_output=True, text=True, env={**os.environ, **env}
    )


def records(prefix: Path) -> list[str]:
    return sorted(p.name for p in (prefix / "conda-meta").glob("in-tree-*.json"))


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return copy_project("in-tree-editable", tmp_path)


def set_version(project: Path, version: str) -> None:
    pyproject = project / "pyproject.toml"
    text = pyproject.read_text()
    pyproject.write_text(text.replace('version = "0.4.0"', f'version = "{version}"'))


@pytest.mark.parametrize("point", ["mid-files", "before-record"])
def test_kill_while_writing_rolls_back_to_before(prefix: Path, project: Path, point: str) -> None:
    before = tree_digest(prefix)
    killed = run_cli(prefix, project, **{FAULT_ENV: point})
    assert killed.returncode == -signal.SIGKILL
    assert (prefix / JOURNAL).is_file()
    assert any((prefix / "lib").rglob("in_tree_editable-0.4.0.dist-info/*")), "the kill came after files were written"
    assert Journal(
        prefix
    ).recover() == "rolled back an interrupted change (conda-meta/in-tree-editable-0.4.0-" + records_after_build(
        project, prefix
    )
    assert tree_digest(prefix) == before


def records_after_build(project: Path, prefix: Path) -> str:
    """The build string is only known once built: read it back from a dry install elsewhere."""
    scratch = make_test_prefix(prefix.parent / "scratch")
    built = develop_install(DevelopRequest((project,), probe(scratch), overrides=NO_USER_MAPPING)).projects[0]
    return f"{built.build}.json)"


def test_kill_after_the_record_completes(prefix: Path, project: Path) -> None:
    killed = run_cli(prefix, project, **{FAULT_ENV: "before-commit"})
    assert killed.returncode == -signal.SIGKILL
    assert (prefix / JOURNAL).is_file()
    assert Journal(prefix).recover().startswith("completed an interrupted change")  # type: ignore[union-attr]
    (record,) = records(prefix)
    check_record_matches_disk(prefix, prefix / "conda-meta" / record)
    assert not (prefix / JOURNAL).exists() and not (prefix / "conda-meta" / "conda-source" / "journal").exists()


def test_interrupted_reinstall_keeps_the_previous_install(prefix: Path, project: Path) -> None:
    first = run_cli(prefix, project)
    assert first.returncode == 0, first.stderr
    (old_record,) = records(prefix)
    before = tree_digest(prefix)
    set_version(project, "0.5.0")
    assert run_cli(prefix, project, **{FAULT_ENV: "mid-files"}).returncode == -signal.SIGKILL
    Journal(prefix).recover()
    assert tree_digest(prefix) == before
    assert records(prefix) == [old_record]
    check_record_matches_disk(prefix, prefix / "conda-meta" / old_record)
    run = subprocess.run([prefix / "bin" / "in-tree-editable"], capture_output=True, text=True, check=True)
    assert run.stdout == "in-tree-editable says from the checkout\n"


def test_next_run_recovers_by_itself(prefix: Path, project: Path) -> None:
    assert run_cli(prefix, project, **{FAULT_ENV: "mid-files"}).returncode == -signal.SIGKILL
    again = run_cli(prefix, project, "--json")
    assert again.returncode == 0, again.stderr
    assert '"recovered": "rolled back an interrupted change' in again.stdout
    (record,) = records(prefix)
    check_record_matches_disk(prefix, prefix / "conda-meta" / record)


@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        pytest.param(b"", "the file is empty", id="empty-after-a-machine-crash"),
        pytest.param(b'{"label": "x", "written": [', "Expecting value: line 1 column 28 (char 27)", id="cut-short"),
        pytest.param(b'{"label": "x", "done": false}', "'written' is missing or not a list", id="edited"),
        pytest.param(b"[]", "not a JSON object", id="not-an-object"),
    ],
)
def test_an_unreadable_journal_changes_nothing_and_says_what_to_do(
    prefix: Path, project: Path, damage: bytes, reason: str
) -> None:
    """What an interrupted change did cannot be known: the run stops before changing anything, naming the file,
    the backup and how to go on; once that directory is gone, runs work again."""
    assert run_cli(prefix, project, **{FAULT_ENV: "mid-files"}).returncode == -signal.SIGKILL
    (prefix / JOURNAL).write_bytes(damage)
    before = tree_digest(prefix)
    again = run_cli(prefix, project)
    journals = prefix / "conda-meta" / "conda-source" / "journal"
    assert again.returncode == 1
    assert again.stderr.strip().splitlines()[-1] == (
        f"conda-source: error: {prefix / JOURNAL}: an interrupted change cannot be finished or undone, its journal is unreadable "
        f"({reason}); nothing was changed. Check the environment's files (the backup/ directories under {journals} "
        f"hold the ones that change had moved away), then remove {journals} to go on; the next run names any file "
        "that change left behind"
    )
    assert tree_digest(prefix) == before
    shutil.rmtree(journals)
    # What the interrupted change wrote is nobody's now; its dist-info RECORD names it as this project's earlier
    # install, which the next run takes over (no --force: that would keep those files to put back on --uninstall).
    again = run_cli(prefix, project)
    assert again.returncode == 0, again.stderr
    assert run_cli(prefix, project, "--uninstall").returncode == 0
    assert (
        not list(site_packages(prefix).glob("in_tree_editable*")) and not (prefix / "bin" / "in-tree-editable").exists()
    )


def test_an_unreadable_journal_in_a_group_changes_nothing(prefix: Path, tmp_path: Path) -> None:
    """Two projects in one run are one group of changes: one journal that cannot be read stops recovery before it
    undoes any other (the later change was undone first, while the message said nothing was changed)."""
    projects = [str(local_project(tmp_path, name, [])) for name in ("proj-a", "proj-b")]
    command = [sys.executable, "-m", "conda_source", "develop-install", *projects, "-p", str(prefix), "-y"]
    command.append("--no-user-mapping")
    killed = subprocess.run(command, capture_output=True, env={**os.environ, FAULT_ENV: "step:35"})  # in proj-b's
    assert killed.returncode == -signal.SIGKILL
    first = prefix / "conda-meta" / "conda-source" / "journal" / "1" / "journal.json"
    first.write_bytes(b"")
    before = tree_digest(prefix)
    again = subprocess.run(command, capture_output=True, text=True)
    assert again.returncode == 1
    assert again.stderr.strip().splitlines()[-1] == (
        f"conda-source: error: {first}: an interrupted change cannot be finished or undone, its journal is unreadable "
        f"(the file is empty); nothing was changed. Check the environment's files (the backup/ directories under "
        f"{first.parent.parent} hold the ones that change had moved away), then remove {first.parent.parent} to go "
        "on; the next run names any file that change left behind"
    )
    assert tree_digest(prefix) == before


def test_kill_during_uninstall(prefix: Path, project: Path) -> None:
    assert run_cli(prefix, project).returncode == 0
    installed = tree_digest(prefix)
    killed = run_cli(prefix, project, "--uninstall", **{FAULT_ENV: "mid-backup"})
    assert killed.returncode == -signal.SIGKILL
    assert Journal(prefix).recover() is not None
    assert tree_digest(prefix) == installed  # the record was still there: the removal is undone
    assert run_cli(prefix, project, "--uninstall").returncode == 0
    assert records(prefix) == [] and not list((prefix / "lib").rglob("in_tree_editable*"))


def test_kill_during_the_build_changes_nothing(prefix: Path, project: Path, tmp_path: Path) -> None:
    before = tree_digest(prefix)
    flag = tmp_path / "building"
    command = [
        sys.executable,
        "-m",
        "conda_source",
        "develop-install",
        str(project),
        "-p",
        str(prefix),
        "--no-user-mapping",
    ]
    process = subprocess.Popen(command, env={**os.environ, "IN_TREE_BACKEND_PAUSE": str(flag)}, start_new_session=True)
    deadline = time.monotonic() + 60
    while not flag.exists():
        assert process.poll() is None and time.monotonic() < deadline, "the build never started"
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    assert tree_digest(prefix) == before
    assert run_cli(prefix, project).returncode == 0  # and the next run works


def test_two_runs_at_once(prefix: Path, project: Path, tmp_path: Path) -> None:
    other = Path(shutil.copytree(project, tmp_path / "in-tree-two"))
    shutil.move(other / "src" / "in_tree_editable", other / "src" / "in_tree_two")
    pyproject = other / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text().replace("in-tree-editable", "in-tree-two").replace("in_tree_editable", "in_tree_two")
    )
    command = [sys.executable, "-m", "conda_source", "develop-install", "-p", str(prefix), "--no-user-mapping"]
    runs = [
        subprocess.Popen([*command, str(path)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for path in (project, other, project)
    ]
    for run in runs:
        _, err = run.communicate(timeout=120)
        assert run.returncode == 0, err
    assert [r.split("-0.4.0-")[0] for r in records(prefix)] == ["in-tree-editable", "in-tree-two"]
    for record in records(prefix):
        check_record_matches_disk(prefix, prefix / "conda-meta" / record)
    history = (prefix / "conda-meta" / "history").read_text()
    assert history.count(f"+local-develop/{SUBDIR}::in-tree-editable-0.4.0-") == 1  # the third run was a no-op


def test_monorepo_builds_dependencies_first_without_channels(prefix: Path, tmp_path: Path) -> None:
    core = local_project(tmp_path, "mono-core", [])
    app = local_project(tmp_path, "mono-app", ["mono-core>=0.4"])
    result = develop_install(DevelopRequest((app, core), probe(prefix), overrides=NO_USER_MAPPING, command="test"))
    assert [p.name for p in result.projects] == ["mono-core", "mono-app"]
    app_record = next(p.record for p in result.projects if p.name == "mono-app")
    assert "mono-core >=0.4" in __import__("json").loads(app_record.read_text())["depends"]
    out = subprocess.run(
        [prefix / "bin" / "python", "-c", "import mono_core, mono_app; print('ok')"], capture_output=True, text=True
    )
    assert out.stdout == "ok\n", out.stderr
    history = (prefix / "conda-meta" / "history").read_text()
    assert history.index(f"+local-develop/{SUBDIR}::mono-core-") < history.index(f"+local-develop/{SUBDIR}::mono-app-")


def test_monorepo_cycle_is_refused(prefix: Path, tmp_path: Path) -> None:
    from conda_source.errors import TargetError

    first = local_project(tmp_path, "cyc-a", ["cyc-b"])
    second = local_project(tmp_path, "cyc-b", ["cyc-a"])
    before = tree_digest(prefix)
    with pytest.raises(TargetError) as caught:
        develop_install(DevelopRequest((first, second), probe(prefix), overrides=NO_USER_MAPPING))
    assert str(caught.value) in (
        "the local projects depend on each other in a cycle (cyc-a -> cyc-b -> cyc-a); break the cycle",
        "the local projects depend on each other in a cycle (cyc-b -> cyc-a -> cyc-b); break the cycle",
    )
    assert tree_digest(prefix) == before


def test_unsatisfiable_dependency_names_its_pypi_requirement(prefix: Path, tmp_path: Path) -> None:
    from conda_source.installer.channel import index_channel
    from conda_source.installer.installer import SolveError

    project = local_project(tmp_path, "needs-missing", ["definitely-missing>=1"])
    channel = tmp_path / "empty"
    index_channel(channel)
    before = tree_digest(prefix)
    with pytest.raises(SolveError) as caught:
        develop_install(DevelopRequest((project,), probe(prefix), (channel.as_uri(),), overrides=NO_USER_MAPPING))
    message = str(caught.value)
    assert message.startswith("cannot install python >=3.11, definitely-missing >=1: ")
    assert message.endswith(
        "\nthe specs come from:\n"
        f"  definitely-missing >=1  <-  definitely-missing>=1  ({project / 'pyproject.toml'}: project.dependencies[0])\n"
        "to fix it: add a channel that has the package (-c CHANNEL), map the PyPI name to the conda package that "
        "provides it (--map NAME=SPEC), or drop the requirement (--map NAME=)"
    )
    assert "python >=3.11  <-" not in message  # only the specs the solver names
    assert tree_digest(prefix) == before


@pytest.mark.parametrize("version", ["0.3.0", "0.4.0"], ids=["older", "same-version"])
def test_takes_over_an_earlier_pip_install(prefix: Path, project: Path, version: str) -> None:
    """An unowned dist-info of the same project (pip install -e .) is replaced, so conda lists it once; also when
    it is the version the checkout builds (its dist-info then has the path of ours: it was refused as foreign)."""
    site = prefix / "lib" / f"python{sys.version_info[0]}.{sys.version_info[1]}" / "site-packages"
    old = site / f"in_tree_editable-{version}.dist-info"
    old.mkdir(parents=True)
    (site / f"__editable__.in_tree_editable-{version}.pth").write_text("/somewhere/old\n")
    (old / "METADATA").write_text(f"Metadata-Version: 2.1\nName: in-tree-editable\nVersion: {version}\n")
    (old / "INSTALLER").write_text("pip\n")
    (old / "RECORD").write_text(
        f"__editable__.in_tree_editable-{version}.pth,,\nin_tree_editable-{version}.dist-info/METADATA,,\n"
        f"in_tree_editable-{version}.dist-info/INSTALLER,,\nin_tree_editable-{version}.dist-info/RECORD,,\n"
    )
    unrelated = site / "other_pkg-1.0.dist-info"
    unrelated.mkdir()
    (unrelated / "RECORD").write_text("")
    result = develop_install(DevelopRequest((project,), probe(prefix), overrides=NO_USER_MAPPING))
    assert not (site / f"__editable__.in_tree_editable-{version}.pth").exists()
    assert sorted(p.name for p in site.glob("in_tree_editable-*.dist-info")) == ["in_tree_editable-0.4.0.dist-info"]
    assert (site / "in_tree_editable-0.4.0.dist-info" / "INSTALLER").read_text() == "conda-source\n"
    assert unrelated.is_dir()  # another project's files are never touched
    check_record_matches_disk(prefix, result.projects[0].record)


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores file permissions, so a read-only prefix cannot be made")
def test_read_only_prefix(prefix: Path, project: Path) -> None:
    from conda_source.errors import TargetError

    (prefix / "conda-meta").chmod(0o555)
    try:
        with pytest.raises(TargetError) as caught:
            develop_install(DevelopRequest((project,), probe(prefix), overrides=NO_USER_MAPPING))
        assert str(caught.value) == f"{prefix}: not writable by you; use an environment you own, or ask its owner"
    finally:
        (prefix / "conda-meta").chmod(0o755)


def test_an_error_while_writing_rolls_back_at_once(
    prefix: Path, project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Not a kill: an exception (disk full, Ctrl-C) mid-write restores the prefix before it propagates."""
    from conda_source.prefix import prefix_install as module

    before = tree_digest(prefix)
    calls = []

    def failing_write(path: Path, staged: object) -> None:
        calls.append(path)
        if len(calls) == 3:
            raise KeyboardInterrupt
        original(path, staged)

    original = module.write_file
    monkeypatch.setattr(module, "write_file", failing_write)
    with pytest.raises(KeyboardInterrupt):
        develop_install(DevelopRequest((project,), probe(prefix), overrides=NO_USER_MAPPING))
    assert len(calls) == 3
    assert tree_digest(prefix) == before


def test_unmappable_dependency(prefix: Path, tmp_path: Path) -> None:
    from conda_source.errors import UntranslatableSpecifierError

    project = local_project(tmp_path, "odd-pin", ["legacy===not-a-version"])
    before = tree_digest(prefix)
    with pytest.raises(UntranslatableSpecifierError) as caught:
        develop_install(DevelopRequest((project,), probe(prefix), overrides=NO_USER_MAPPING))
    assert str(caught.value) == (
        "cannot translate '===not-a-version' of requirement 'legacy===not-a-version': conda has no string equality "
        "and this is not a version; pin a real version with '==' or override the mapping"
    )
    assert tree_digest(prefix) == before
