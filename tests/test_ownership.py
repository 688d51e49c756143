"""Issue 10: nothing conda-source does may lose or corrupt what the environment already has.

One end-to-end test (or table) per case of the issue, each run through the ``conda-source`` command
as a process, checked from outside, with the invariant checker of support.py after every operation.
(Cases 8 and 9, and the build-local half of case 2, are tested on the artifact-limits branch.)
"""

from __future__ import annotations

import json
import signal
import subprocess
from pathlib import Path

import pytest
from lab import cli, records, write_project
from support import before, check_invariants, prefix_state, site_packages, tree_digest

from conda_source.installer.installer import RattlerInstaller
from conda_source.meta.journal import Journal
from conda_source.prefix.health import Finding, check_prefix
from conda_source.target import host_subdir, probe

SUBDIR = host_subdir()  # develop records' subdir, as conda's history names them


def error(run: subprocess.CompletedProcess[str]) -> str:
    assert run.returncode == 1, (run.stdout, run.stderr)
    prefix = "conda-source: error: "
    assert run.stderr.startswith(prefix), run.stderr
    return run.stderr[len(prefix) :].rstrip("\n")


def ok(run: subprocess.CompletedProcess[str]) -> str:
    assert run.returncode == 0, run.stderr
    return run.stdout


def install_from_channel(prefix: Path, channel: Path, *specs: str) -> None:
    RattlerInstaller(probe(prefix), [str(channel)], command="test").install(list(specs))


def python(prefix: Path, code: str) -> str:
    run = subprocess.run([prefix / "bin" / "python", "-c", code], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    return run.stdout


# 1. A pip install being taken over: its RECORD is untrusted.


def plant_pip_install(prefix: Path, entries: list[str], name: str = "lab_proj", version: str = "0.9") -> str:
    site = site_packages(prefix)
    dist_info = site / f"{name}-{version}.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
    (dist_info / "INSTALLER").write_text("pip\n")
    own = [f"{dist_info.name}/METADATA", f"{dist_info.name}/INSTALLER", f"{dist_info.name}/RECORD"]
    (dist_info / "RECORD").write_text("".join(f"{e},," + "\n" for e in [*entries, *own]))
    return dist_info.relative_to(prefix).as_posix()


def test_pip_record_cannot_delete_conda_meta_or_pyvenv(prefix: Path, tmp_path: Path) -> None:
    python_record = next((prefix / "conda-meta").glob("python-*.json")).name
    (prefix / "conda-meta" / "history").write_text("==> 2026-01-01 00:00:00 <==\n# cmd: conda create\n")
    project = write_project(tmp_path / "proj", "lab-proj")
    dist_info = plant_pip_install(
        prefix, ["../../../conda-meta/history", f"../../../conda-meta/{python_record}", "../../../pyvenv.cfg"]
    )
    state = tree_digest(prefix)
    assert error(cli(prefix, str(project))) == (
        f"{dist_info}/RECORD: refusing '../../../conda-meta/history': conda-meta/history is in conda-meta/, which belongs to conda\n"
        f"{dist_info}/RECORD: refusing '../../../conda-meta/{python_record}': conda-meta/{python_record} is in conda-meta/, which belongs to conda\n"
        f"{dist_info}/RECORD: refusing '../../../pyvenv.cfg': pyvenv.cfg tells the environment's python where its prefix is\n"
        f"lab-proj: not installed, since the pip install {dist_info} cannot be taken over; check that directory and remove it by hand, then run again"
    )
    assert tree_digest(prefix) == state
    check_invariants(prefix)


REFUSED_ENTRIES = [
    pytest.param("/etc/passwd", "it is outside the environment", id="absolute-outside"),
    pytest.param("../../../../outside.txt", "it is outside the environment", id="dotdot-outside"),
    pytest.param(
        "../../../Conda-Meta/history", "Conda-Meta/history is in conda-meta/, which belongs to conda", id="case"
    ),
    pytest.param("../../../bin/python", "bin/python is the environment's python", id="interpreter"),
    pytest.param(
        "other_pkg-1.0.dist-info/RECORD",
        "{site}/other_pkg-1.0.dist-info/RECORD is in other_pkg-1.0.dist-info, the metadata of another distribution",
        id="other-dist-info",
    ),
    pytest.param("linked/secret.txt", "it leads out of the environment through a symbolic link", id="symlink"),
]


@pytest.mark.parametrize(("entry", "reason"), REFUSED_ENTRIES)
def test_pip_record_entry_refused(prefix: Path, tmp_path: Path, entry: str, reason: str) -> None:
    site = site_packages(prefix)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("keep me\n")
    (site / "linked").symlink_to(outside)
    (site / "other_pkg-1.0.dist-info").mkdir()
    (site / "other_pkg-1.0.dist-info" / "RECORD").write_text("")
    (site / "other_pkg-1.0.dist-info" / "INSTALLER").write_text("pip\n")
    project = write_project(tmp_path / "proj", "lab-proj")
    dist_info = plant_pip_install(prefix, [entry, "lab_proj/__init__.py"])
    (site / "lab_proj").mkdir()
    (site / "lab_proj" / "__init__.py").write_text("")
    then = before(prefix, (outside,))
    state = tree_digest(prefix)
    relative_site = site.relative_to(prefix).as_posix()
    assert error(cli(prefix, str(project))) == (
        f"{dist_info}/RECORD: refusing '{entry}': {reason.format(site=relative_site)}\n"
        f"lab-proj: not installed, since the pip install {dist_info} cannot be taken over; check that directory and remove it by hand, then run again"
    )
    assert tree_digest(prefix) == state
    check_invariants(prefix, then)


def test_pip_takeover_leaves_files_of_others(prefix: Path, tmp_path: Path, lab_channel: Path) -> None:
    """A RECORD entry a conda package owns, or another pip install lists, stays; the rest is taken over."""
    install_from_channel(prefix, lab_channel, "clashpkg")
    site = site_packages(prefix)
    clash = (prefix / "bin" / "clash-tool").read_bytes()
    other = site / "other_pkg-1.0.dist-info"
    other.mkdir()
    (other / "INSTALLER").write_text("pip\n")
    (other / "RECORD").write_text(
        "shared.py,,\nother_pkg-1.0.dist-info/RECORD,,\nother_pkg-1.0.dist-info/INSTALLER,,\n"
    )
    (site / "shared.py").write_text("SHARED = 1\n")
    (site / "lab_proj_old.py").write_text("OLD = 1\n")
    old = site / "lab_proj-0.9.dist-info"
    (old / "licenses").mkdir(parents=True)
    (old / "licenses" / "LICENSE").write_text("MIT\n")  # not in its RECORD: taken over with its directory
    (old / "INSTALLER").write_text("pip\n")
    (old / "RECORD").write_text(
        "../../../bin/clash-tool,,\nshared.py,,\nlab_proj_old.py,,\nlab_proj-0.9.dist-info/RECORD,,\n"
    )
    project = write_project(tmp_path / "proj", "lab-proj")
    then = before(prefix)
    ok(cli(prefix, str(project)))
    assert (prefix / "bin" / "clash-tool").read_bytes() == clash
    assert (site / "shared.py").read_text() == "SHARED = 1\n"
    assert not (site / "lab_proj_old.py").exists() and not old.exists()
    check_invariants(prefix, then)


# 2. Nothing is ever installed into conda-meta/ (the build-local half is on the artifact-limits branch).


def test_wheel_data_cannot_target_conda_meta(prefix: Path, tmp_path: Path) -> None:
    members = {
        "lab_proj-1.0.data/data/conda-meta/history": "planted\n",
        "lab_proj-1.0.data/data/conda-meta/fake-1.0-0.json": "{}",
    }
    project = write_project(tmp_path / "proj", "lab-proj", members=members)
    (prefix / "conda-meta" / "history").write_text("==> 2026-01-01 00:00:00 <==\n# cmd: conda create\n")
    state = tree_digest(prefix)
    for flags in ((), ("--no-editable",)):
        message = error(cli(prefix, str(project), *flags))
        assert message.startswith("/") and message.endswith(
            "/lab_proj-1.0-py3-none-any.whl: refusing 'lab_proj-1.0.data/data/conda-meta/history': it would install "
            "into conda-meta/, which belongs to conda; remove it from the wheel"
        )
        assert tree_digest(prefix) == state


# 3. A rollback never deletes what the change did not create (every step: test_kill_every_step.py).


def test_kill_while_backing_up_a_reinstall_keeps_the_old_install(prefix: Path, tmp_path: Path) -> None:
    project = write_project(tmp_path / "proj", "lab-proj", "1.0")
    ok(cli(prefix, str(project)))
    installed = prefix_state(prefix)
    write_project(project, "lab-proj", "2.0", scripts={"lab-proj-two": "lab_proj:main"})
    assert cli(prefix, str(project), fault="mid-backup").returncode == -signal.SIGKILL
    assert Journal(prefix).recover().startswith("rolled back an interrupted change (conda-meta/lab-proj-2.0-")  # type: ignore[union-attr]
    assert prefix_state(prefix) == installed
    check_invariants(prefix)
    assert subprocess.run([prefix / "bin" / "lab-proj"], capture_output=True, text=True).stdout == "lab-proj 2.0\n"
    ok(cli(prefix, str(project)))  # no false clobber error
    assert (prefix / "bin" / "lab-proj-two").exists() and not (prefix / "bin" / "lab-proj").exists()
    check_invariants(prefix)


# 4. --force keeps what it overwrites, --uninstall puts it back, conda doctor reports it meanwhile.


def test_force_keeps_and_uninstall_restores(prefix: Path, tmp_path: Path, lab_channel: Path) -> None:
    install_from_channel(prefix, lab_channel, "clashpkg")
    tool = prefix / "bin" / "clash-tool"
    original, mode = tool.read_bytes(), tool.stat().st_mode
    clash_record = next((prefix / "conda-meta").glob("clashpkg-*.json"))
    record_bytes = clash_record.read_bytes()
    project = write_project(tmp_path / "proj", "clash-dev", scripts={"clash-tool": "clash_dev:main"})
    start = prefix_state(prefix)
    then = before(prefix, (lab_channel,))
    assert error(cli(prefix, str(project))) == (
        "clash-dev: would overwrite bin/clash-tool, which belongs to the conda package 'clashpkg'; remove that "
        "package, or pass --force to overwrite it (it is kept, and --uninstall puts it back)"
    )
    assert prefix_state(prefix) == start

    out = ok(cli(prefix, str(project), "--force"))
    assert "  forced over bin/clash-tool (kept; --uninstall puts it back)\n" in out
    assert subprocess.run([tool], capture_output=True, text=True).stdout == "clash-dev 1.0\n"
    kept = prefix / "conda-meta" / "conda-source" / "forced" / "clash-dev" / "bin" / "clash-tool"
    assert (kept.read_bytes(), kept.stat().st_mode) == (original, mode)
    state = json.loads((prefix / "conda-meta" / "conda-source" / "clash-dev.json").read_text())
    assert state["forced"] == {"bin/clash-tool": "clashpkg"}
    assert check_prefix(prefix) == [
        Finding(
            "clash-dev",
            str(project),
            "forced",
            "bin/clash-tool overwrote a file of the conda package 'clashpkg' (--force); the original is kept in "
            "conda-meta/conda-source/forced/clash-dev/bin/clash-tool, --uninstall puts it back",
        )
    ]
    assert clash_record.read_bytes() == record_bytes
    check_invariants(prefix, then)

    write_project(project, "clash-dev", "1.1", scripts={"clash-tool": "clash_dev:main"})
    ok(cli(prefix, str(project)))  # a reinstall keeps the overlap the user handed over, and the original
    assert (kept.read_bytes(), kept.stat().st_mode) == (original, mode)
    check_invariants(prefix, then)

    ok(cli(prefix, str(project), "--uninstall"))
    assert (tool.read_bytes(), tool.stat().st_mode) == (original, mode)
    assert clash_record.read_bytes() == record_bytes
    assert check_prefix(prefix) == []
    assert prefix_state(prefix) == start
    check_invariants(prefix, then)


def test_a_reinstall_without_the_clash_puts_the_original_back(prefix: Path, tmp_path: Path, lab_channel: Path) -> None:
    install_from_channel(prefix, lab_channel, "clashpkg")
    tool = prefix / "bin" / "clash-tool"
    original, mode = tool.read_bytes(), tool.stat().st_mode
    project = write_project(tmp_path / "proj", "clash-dev", scripts={"clash-tool": "clash_dev:main"})
    ok(cli(prefix, str(project), "--force"))
    write_project(project, "clash-dev", "2.0", scripts={"clash-dev": "clash_dev:main"})
    ok(cli(prefix, str(project)))
    assert (tool.read_bytes(), tool.stat().st_mode) == (original, mode)
    assert not (prefix / "conda-meta" / "conda-source" / "forced").exists()
    assert json.loads((prefix / "conda-meta" / "conda-source" / "clash-dev.json").read_text())["forced"] == {}
    assert check_prefix(prefix) == []
    check_invariants(prefix)


def test_force_over_a_file_nobody_owns(prefix: Path, tmp_path: Path) -> None:
    stray = prefix / "bin" / "lab-proj"
    stray.write_text("#!/bin/sh\necho put here by hand\n")
    project = write_project(tmp_path / "proj", "lab-proj")
    start = prefix_state(prefix)
    assert error(cli(prefix, str(project))) == (
        "lab-proj: would overwrite bin/lab-proj, which no conda package owns (another installer put it there); "
        "move it away, or pass --force to overwrite it (it is kept, and --uninstall puts it back)"
    )
    ok(cli(prefix, str(project), "--force"))
    assert [f.detail for f in check_prefix(prefix)] == [
        "bin/lab-proj overwrote a file no conda package owned (--force); the original is kept in "
        "conda-meta/conda-source/forced/lab-proj/bin/lab-proj, --uninstall puts it back"
    ]
    check_invariants(prefix)
    write_project(project, "lab-proj", "1.1")
    ok(cli(prefix, str(project)))  # the stray file stays kept through a reinstall
    assert len(check_prefix(prefix)) == 1
    ok(cli(prefix, str(project), "--uninstall"))
    assert prefix_state(prefix) == start


# 5. Developing a package the environment has from a channel replaces it; --uninstall puts it back.


@pytest.fixture
def with_chanpkg(prefix: Path, lab_channel: Path) -> Path:
    install_from_channel(prefix, lab_channel, "dependent")
    return prefix


def test_develop_replaces_a_channel_package_and_uninstall_puts_it_back(
    with_chanpkg: Path, tmp_path: Path, lab_channel: Path
) -> None:
    prefix = with_chanpkg
    (channel_record,) = records(prefix, "chanpkg")
    old = json.loads((prefix / "conda-meta" / channel_record).read_text())
    dependent = next((prefix / "conda-meta").glob("dependent-*.json"))
    dependent_bytes = dependent.read_bytes()
    start = prefix_state(prefix)
    then = before(prefix, (lab_channel,))
    project = write_project(tmp_path / "chanpkg", "chanpkg", "2.0")

    out = ok(cli(prefix, str(project)))
    channel = old["channel"].rstrip("/")
    assert (
        f"chanpkg 2.0 replaces chanpkg 1.0 {old['build']} from {channel}; needed by dependent 1.0 (chanpkg >=1.0)\n"
        in out
    )
    (new_record,) = records(prefix, "chanpkg")
    assert json.loads((prefix / "conda-meta" / new_record).read_text())["channel"] == "local-develop"
    site = site_packages(prefix)
    assert sorted(p.name for p in site.glob("chanpkg-*.dist-info")) == ["chanpkg-2.0.dist-info"]
    assert not (site / "chanpkg").exists() and not (prefix / "bin" / "chan-tool").exists()
    assert dependent.read_bytes() == dependent_bytes
    assert python(prefix, "import chanpkg; print(chanpkg.WHO)") == "checkout\n"
    history = (prefix / "conda-meta" / "history").read_text()
    assert f"-{channel}::chanpkg-1.0-{old['build']}\n+local-develop/{SUBDIR}::chanpkg-2.0-" in history
    check_invariants(prefix, then)

    out = ok(cli(prefix, str(project), "--uninstall"))
    assert f"put back {channel}::chanpkg-1.0-{old['build']}\n" in out
    assert prefix_state(prefix) == start
    assert python(prefix, "import chanpkg; print(chanpkg.WHO)") == "channel\n"
    check_invariants(prefix, then)


def test_dry_run_says_what_would_be_replaced(with_chanpkg: Path, tmp_path: Path) -> None:
    prefix = with_chanpkg
    (channel_record,) = records(prefix, "chanpkg")
    old = json.loads((prefix / "conda-meta" / channel_record).read_text())
    project = write_project(tmp_path / "chanpkg", "chanpkg", "2.0")
    start = prefix_state(prefix)
    out = ok(cli(prefix, str(project), "--dry-run"))
    assert (
        f"chanpkg: would replace chanpkg 1.0 {old['build']} from {old['channel'].rstrip('/')}; "
        "needed by dependent 1.0 (chanpkg >=1.0)\nDry run: nothing was changed.\n"
    ) in out
    assert prefix_state(prefix) == start


def test_a_package_that_cannot_be_put_back_is_reported_and_retried(
    with_chanpkg: Path, tmp_path: Path, lab_channel: Path
) -> None:
    """Its url gone and no cache: the uninstall says so, conda doctor reports it, the next run retries (and,
    given channels, puts it back through the installer)."""
    prefix = with_chanpkg
    project = write_project(tmp_path / "chanpkg", "chanpkg", "2.0")
    ok(cli(prefix, str(project)))
    state_file = prefix / "conda-meta" / "conda-source" / "chanpkg.json"
    state = json.loads(state_file.read_text())
    kept = json.loads(state["replaces"]["json"])
    kept.update(url="file:///nowhere/chanpkg-1.0-0.conda", sha256="0" * 64, md5="0" * 32)
    state["replaces"]["json"] = json.dumps(kept)
    state_file.write_text(json.dumps(state))
    (develop,) = records(prefix, "chanpkg")
    message = error(cli(prefix, str(project), "--uninstall"))
    channel = kept["channel"].rstrip("/")
    assert message.startswith(
        f"removed local-develop::{develop.removesuffix('.json')}, but could not put back the channel package "
        f"chanpkg-1.0-{kept['build']} ({channel}): "
    ) and message.endswith("; install it again with conda (conda-source retries at its next run in this environment)")
    assert "\n" not in message
    assert check_prefix(prefix) == [
        Finding(
            "chanpkg",
            kept["channel"],
            "not restored",
            f"chanpkg-1.0-{kept['build']} was replaced by a develop install and is not back yet; the next "
            "conda-source run in this environment retries, or install it again with conda",
        )
    ]
    other = write_project(tmp_path / "other", "lab-proj")
    out = ok(cli(prefix, str(other), "-c", str(lab_channel)))  # the next run, with a channel that has it
    assert f"recovered: put back {channel}::chanpkg-1.0-{kept['build']}\n" in out
    assert check_prefix(prefix) == []
    assert python(prefix, "import chanpkg; print(chanpkg.WHO)") == "channel\n"
    check_invariants(prefix)


def test_replacement_that_breaks_a_dependent_is_refused(with_chanpkg: Path, tmp_path: Path) -> None:
    prefix = with_chanpkg
    project = write_project(tmp_path / "chanpkg", "chanpkg", "0.5")
    start = prefix_state(prefix)
    assert error(cli(prefix, str(project))) == (
        "chanpkg 0.5 does not satisfy 'chanpkg >=1.0', required by the installed dependent 1.0\n"
        "chanpkg: not installed; change the project's version, or pass --force to install it anyway"
    )
    assert prefix_state(prefix) == start
    ok(cli(prefix, str(project), "--force"))
    check_invariants(prefix)
    ok(cli(prefix, str(project), "--uninstall"))
    assert prefix_state(prefix) == start


# 6. No ghost dist-info directories.


def test_kill_after_the_commit_point_leaves_no_ghost_dist_info(prefix: Path, tmp_path: Path) -> None:
    project = write_project(tmp_path / "proj", "lab-proj", "1.0")
    ok(cli(prefix, str(project)))
    write_project(project, "lab-proj", "2.0")
    assert cli(prefix, str(project), fault="before-commit").returncode == -signal.SIGKILL
    out = ok(cli(prefix, str(project)))
    assert sorted(p.name for p in site_packages(prefix).glob("lab_proj-*")) == ["lab_proj-2.0.dist-info"]
    assert "recovered: completed an interrupted change (conda-meta/lab-proj-2.0-" in out
    check_invariants(prefix)


def test_uninstall_removes_dist_info_subdirectories(prefix: Path, tmp_path: Path) -> None:
    members = {"lab_proj-1.0.dist-info/licenses/LICENSE": "MIT\n"}
    project = write_project(tmp_path / "proj", "lab-proj", members=members)
    start = prefix_state(prefix)
    ok(cli(prefix, str(project)))
    assert (site_packages(prefix) / "lab_proj-1.0.dist-info" / "licenses" / "LICENSE").is_file()
    ok(cli(prefix, str(project), "--uninstall"))
    assert not list(site_packages(prefix).glob("lab_proj*"))
    code = "import importlib.metadata as m; print([d.metadata['Name'] for d in m.distributions()])"
    assert python(prefix, code) == "[]\n"
    assert prefix_state(prefix) == start


# 7. py-rattler's .partial records left by a kill are cleaned up.


def test_partial_records_are_removed(prefix: Path, tmp_path: Path) -> None:
    partial = prefix / "conda-meta" / "chanpkg-1.0-py_0.json.partial"
    partial.write_text('{"name": "chanpk')
    project = write_project(tmp_path / "proj", "lab-proj")
    ok(cli(prefix, str(project)))
    assert not partial.exists()
    check_invariants(prefix)


def test_a_damaged_restore_marker_stops_the_run_and_says_what_to_do(
    with_chanpkg: Path, tmp_path: Path, lab_channel: Path
) -> None:
    """The record of a replaced channel package waiting to be put back (an uninstall cut short) cannot be read:
    the next run changes nothing and says how to get the package back."""
    prefix = with_chanpkg
    marker = prefix / "conda-meta" / "conda-source" / "restore" / "chanpkg.json"
    marker.parent.mkdir(parents=True)
    marker.write_text('{"record": "conda-meta/chanpkg-1.0-0.json", "json": "{"', encoding="utf-8")
    project = write_project(tmp_path / "other", "lab-other", "1.0")
    before_run = tree_digest(prefix)
    run = cli(prefix, str(project))
    assert run.returncode == 1
    assert run.stderr.strip().splitlines()[-1] == (
        f"conda-source: error: {marker}: not a readable record of a replaced channel package waiting to be put back "
        f"(Expecting ',' delimiter: line 1 column 56 (char 55)). Move that file out of "
        f"{marker.parent}, then install that package again with conda (conda install -p {prefix} chanpkg) and run "
        "again"
    )
    assert tree_digest(prefix) == before_run
    (finding,) = [f for f in check_prefix(prefix) if f.problem == "not restored"]  # conda doctor says so too
    assert finding == Finding("chanpkg", str(marker), "not restored", run.stderr.strip().splitlines()[-1][21:])
