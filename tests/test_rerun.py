"""The quick no-op (engine/rerun.py) says "unchanged" only where the full path would, and then nothing is imported.

Each case installs, checks the quick path sees the re-run as a no-op, changes one input, and checks the
quick path steps aside (None) so the full path decides; the full path's own decisions are tested in
test_noop.py.
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from support import local_project

from conda_source.engine.develop_install import DevelopRequest, develop_install
from conda_source.engine.rerun import nothing_to_do
from conda_source.mapping.overrides import Overrides
from conda_source.meta import conda_meta
from conda_source.target import probe


def request_for(prefix: Path, *projects: Path, **changes: object) -> DevelopRequest:
    request = DevelopRequest(
        tuple(projects), probe(prefix), (), overrides=Overrides(user_file=False), command="conda-source develop-install"
    )
    return dataclasses.replace(request, **changes)  # type: ignore[arg-type]


@pytest.fixture
def installed(prefix: Path, tmp_path: Path) -> tuple[Path, Path]:
    """A project installed, and re-run once through the full path (which remembers what satisfies its specs)."""
    project = local_project(tmp_path, "quick-demo", [])
    develop_install(request_for(prefix, project))
    assert develop_install(request_for(prefix, project)).projects[0].unchanged
    return prefix, project


def test_an_unchanged_rerun_is_answered_without_planning(installed: tuple[Path, Path]) -> None:
    prefix, project = installed
    record = next(prefix.glob("conda-meta/quick-demo-*.json"))
    stamp = record.stat().st_mtime_ns
    result = nothing_to_do(request_for(prefix, project))
    assert result is not None
    (only,) = result.projects
    assert only.unchanged and only.record == record and only.name == "quick-demo"
    assert [c.action for c in result.changes] == ["unchanged"]
    assert result.to_dict()["actions"] == {"PREFIX": str(prefix), "LINK": [], "UNLINK": []}
    assert record.stat().st_mtime_ns == stamp  # nothing written


def _edit_pyproject(prefix: Path, project: Path) -> None:
    with (project / "pyproject.toml").open("a") as handle:
        handle.write("\n# edited\n")


def _new_module(prefix: Path, project: Path) -> None:
    (project / "src" / "another_module.py").write_text("")


def _installed_file_edited(prefix: Path, project: Path) -> None:
    pth = next(prefix.glob("lib/python*/site-packages/*quick_demo*.pth"))
    pth.write_text(pth.read_text() + "\n")


def _dependency_record_rewritten(prefix: Path, project: Path) -> None:
    python_record = next(prefix.glob("conda-meta/python-3*.json"))
    data = json.loads(python_record.read_text())
    python_record.write_text(json.dumps(data, indent=1))  # another size: what satisfied the spec may have changed


def _open_journal(prefix: Path, project: Path) -> None:
    journal = prefix / "conda-meta" / conda_meta.STATE_DIR / "journal"
    journal.mkdir(parents=True)


def _partial_record(prefix: Path, project: Path) -> None:
    (prefix / "conda-meta" / "something-1-0.json.partial").write_text("{")


def _state_from_an_older_version(prefix: Path, project: Path) -> None:
    state = prefix / "conda-meta" / conda_meta.STATE_DIR / "quick-demo.json"
    data = json.loads(state.read_text())
    del data["rerun"]
    state.write_text(json.dumps(data))


def _dependency_record_removed(prefix: Path, project: Path) -> None:
    next(prefix.glob("conda-meta/python-3*.json")).unlink()


def _dependency_replaced_by_an_older_version(prefix: Path, project: Path) -> None:
    """What satisfied ``python >=3.11`` replaced by a python that does not (another record file)."""
    record = next(prefix.glob("conda-meta/python-3*.json"))
    data = json.loads(record.read_text())
    data.update(version="3.10.0", fn="python-3.10.0-0.conda")
    record.unlink()
    (record.parent / "python-3.10.0-0.json").write_text(json.dumps(data))


def _restore_marker(prefix: Path, project: Path) -> None:
    marker = prefix / conda_meta.restore_marker("chanpkg")
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.write_text("{}")


CHANGES: dict[str, Callable[[Path, Path], None]] = {
    "pyproject.toml edited": _edit_pyproject,
    "a new top-level module": _new_module,
    "an installed file edited": _installed_file_edited,
    "a dependency's record rewritten": _dependency_record_rewritten,
    "an interrupted change (journal)": _open_journal,
    "a partial record left behind": _partial_record,
    "a state without rerun data": _state_from_an_older_version,
    "a dependency's record removed": _dependency_record_removed,
    "a dependency replaced by a version outside its spec": _dependency_replaced_by_an_older_version,
    "a channel package waiting to be put back": _restore_marker,
}


@pytest.mark.parametrize("change", sorted(CHANGES))
def test_a_changed_input_goes_down_the_full_path(installed: tuple[Path, Path], change: str) -> None:
    prefix, project = installed
    assert nothing_to_do(request_for(prefix, project)) is not None
    CHANGES[change](prefix, project)
    assert nothing_to_do(request_for(prefix, project)) is None


REQUESTS: dict[str, dict[str, object]] = {
    "--map": {"overrides": Overrides(("six=six-custom",), (), False)},
    "conda's mapping setting": {"overrides": Overrides((), ("six=six-custom",), False)},
    "an extra": {"extras": ("test",)},
    "a group": {"groups": ("lint",)},
    "--no-editable": {"editable": False},
    "--no-deps": {"deps": False},
    "--only-deps": {"only_deps": True},
    "--dry-run": {"dry_run": True},
}


@pytest.mark.parametrize("asked", sorted(REQUESTS))
def test_another_request_goes_down_the_full_path(installed: tuple[Path, Path], asked: str) -> None:
    prefix, project = installed
    assert nothing_to_do(request_for(prefix, project, **REQUESTS[asked])) is None


def test_the_users_mapping_file_counts(prefix: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project = local_project(tmp_path, "quick-mapped", [])
    mapping = tmp_path / "mapping.toml"
    monkeypatch.setenv("CONDA_SOURCE_MAPPING", str(mapping))
    mapping.write_text("[mapping]\n")
    request = request_for(prefix, project, overrides=Overrides())
    develop_install(request)
    develop_install(request)
    assert nothing_to_do(request) is not None
    mapping.write_text('[mapping]\nsix = "six-custom"\n')  # may map a dependency elsewhere: plan again
    assert nothing_to_do(dataclasses.replace(request, overrides=Overrides())) is None  # a new run reads it anew


def test_another_project_set_goes_down_the_full_path(installed: tuple[Path, Path], tmp_path: Path) -> None:
    prefix, project = installed
    other = local_project(tmp_path, "quick-other", [])
    assert nothing_to_do(request_for(prefix, project, other)) is None


def test_the_cli_answers_a_no_op_without_importing_the_engine(installed: tuple[Path, Path]) -> None:
    """The point of the quick path: neither the planner (packaging), the engine nor py-rattler is imported."""
    prefix, project = installed
    probe_script = (
        "import sys, runpy; sys.argv = ['conda-source', *sys.argv[1:]]\n"
        "from conda_source.cli import main\n"
        "code = main()\n"
        "heavy = sorted(m for m in ('conda_source.engine.develop_install', 'conda_source.engine.plan', "
        "'packaging.requirements', 'rattler', 'asyncio') if m in sys.modules)\n"
        "print('HEAVY', heavy)\n"
        "sys.exit(code)\n"
    )
    command = [sys.executable, "-c", probe_script, "develop-install", str(project), "-p", str(prefix)]
    completed = subprocess.run(
        [*command, "--no-user-mapping"], capture_output=True, text=True, env={**os.environ, "NO_COLOR": "1"}
    )
    assert completed.returncode == 0, completed.stderr
    assert "unchanged, nothing to do" in completed.stdout
    assert "HEAVY []" in completed.stdout


def test_a_no_deps_install_is_seen_unchanged_by_the_quick_path(prefix: Path, tmp_path: Path) -> None:
    """--no-deps installs no runtime dependency, so the quick path must not require them either."""
    project = local_project(tmp_path, "quick-nodeps", ["not-installed-anywhere"])
    request = request_for(prefix, project, deps=False)
    develop_install(request)
    assert develop_install(request).projects[0].unchanged
    assert nothing_to_do(request) is not None
    assert nothing_to_do(dataclasses.replace(request, deps=True)) is None  # another request: the full path


@pytest.mark.parametrize("appears", [True, False], ids=["appears", "disappears"])
def test_the_users_default_mapping_file_appearing_or_going_counts(
    prefix: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, appears: bool
) -> None:
    project = local_project(tmp_path, "quick-default", [])
    monkeypatch.delenv("CONDA_SOURCE_MAPPING", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    mapping = tmp_path / "config" / "conda-source" / "mapping.toml"
    mapping.parent.mkdir(parents=True)
    if not appears:
        mapping.write_text("[mapping]\n")
    request = request_for(prefix, project, overrides=Overrides())
    develop_install(request)
    develop_install(request)
    assert nothing_to_do(dataclasses.replace(request, overrides=Overrides())) is not None
    if appears:
        mapping.write_text("[mapping]\n")
    else:
        mapping.unlink()
    assert nothing_to_do(dataclasses.replace(request, overrides=Overrides())) is None


def test_naming_a_mapping_file_in_the_environment_counts(
    prefix: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = local_project(tmp_path, "quick-env-mapping", [])
    monkeypatch.delenv("CONDA_SOURCE_MAPPING", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    request = request_for(prefix, project, overrides=Overrides())
    develop_install(request)
    develop_install(request)
    assert nothing_to_do(dataclasses.replace(request, overrides=Overrides())) is not None
    (tmp_path / "mapping.toml").write_text("[mapping]\n")
    monkeypatch.setenv("CONDA_SOURCE_MAPPING", str(tmp_path / "mapping.toml"))
    assert nothing_to_do(dataclasses.replace(request, overrides=Overrides())) is None


EDITING_BACKEND = """
import os
import minimal_backend
from minimal_backend import *

def build_editable(*args, **kwargs):
    with open(os.environ["REVIEW_EDIT_MAPPING"], "w") as handle:
        handle.write('[mapping]\\npython = "python >=99"\\n')
    return minimal_backend.build_editable(*args, **kwargs)
"""


def test_a_mapping_file_edited_during_the_build_is_not_vouched_for(
    prefix: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The install was planned with the file as it was before the build; the key must say so, or the next
    run is called unchanged while the full path plans with the edited file (here: a spec nothing satisfies)."""
    project = local_project(tmp_path, "quick-race", ["python"])
    (project / "_backend" / "editing_backend.py").write_text(EDITING_BACKEND)
    pyproject = project / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('"minimal_backend"', '"editing_backend"'))
    mapping = tmp_path / "mapping.toml"
    mapping.write_text("[mapping]\n")
    monkeypatch.setenv("CONDA_SOURCE_MAPPING", str(mapping))
    monkeypatch.setenv("REVIEW_EDIT_MAPPING", str(mapping))
    develop_install(request_for(prefix, project, overrides=Overrides()))
    assert "python >=99" in mapping.read_text()  # edited while the build ran
    assert nothing_to_do(request_for(prefix, project, overrides=Overrides())) is None


def test_a_dependency_that_is_another_develop_install_reinstalled_counts(prefix: Path, tmp_path: Path) -> None:
    base = local_project(tmp_path, "quick-base", [])
    user = local_project(tmp_path, "quick-user", ["quick-base"])
    develop_install(request_for(prefix, base))
    develop_install(request_for(prefix, user))
    develop_install(request_for(prefix, user))
    assert nothing_to_do(request_for(prefix, user)) is not None
    pyproject = base / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('version = "0.4.0"', 'version = "0.5.0"'))
    develop_install(request_for(prefix, base))
    assert nothing_to_do(request_for(prefix, user)) is None


def test_the_quick_answer_is_the_full_paths_answer(prefix: Path, tmp_path: Path) -> None:
    """Same --json (but the plans, which the quick path never makes) and the same text, projects in build order."""
    from conda_source.cli.develop_install import render

    base = local_project(tmp_path, "quick-a", [])
    user = local_project(tmp_path, "quick-b", ["quick-a"])
    request = request_for(prefix, user, base)
    develop_install(request)
    full = develop_install(request)
    quick = nothing_to_do(request)
    assert quick is not None
    assert [p.name for p in full.projects] == ["quick-a", "quick-b"]
    assert {**full.to_dict(), "plans": []} == quick.to_dict()
    assert render(full) == render(quick)


def test_a_state_with_hand_edited_specs_goes_down_the_full_path(installed: tuple[Path, Path]) -> None:
    prefix, project = installed
    state = prefix / "conda-meta" / conda_meta.STATE_DIR / "quick-demo.json"
    data = json.loads(state.read_text())
    data["rerun"]["specs"] = None
    state.write_text(json.dumps(data))
    assert nothing_to_do(request_for(prefix, project)) is None
    assert develop_install(request_for(prefix, project)).projects[0].unchanged


@pytest.mark.parametrize("name", ["Foo_Bar", "foo.-_bar", "A--B", "x", "Django-REST.framework", "a__b..c"])
def test_canonical_name_is_packagings(name: str) -> None:
    """The one hand-written PEP 503 normalization (the re-run key and the memo use it) agrees with packaging's."""
    from packaging.utils import canonicalize_name

    from conda_source.build_files import canonical_name

    assert canonical_name(name) == canonicalize_name(name)
