"""build-local of several projects in one run: dependency order, each against the ones built before
(through the output channel), independent ones in parallel worker processes."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from rattler import PrefixRecord
from support import PROJECTS, local_project

from conda_source.backend.sequence import BackendError
from conda_source.cli import main
from conda_source.engine.build_local import BuildRequest, build_local
from conda_source.errors import TargetError
from conda_source.installer.installer import RattlerInstaller
from conda_source.mapping.overrides import Overrides
from conda_source.target import probe
from conda_source.testing import make_test_prefix

NO_USER_MAPPING = Overrides(user_file=False)

# The in-tree minimal backend, logging which process ran each build (its parent is the worker).
LOGGED = """
import json, os
import minimal_backend as base
from minimal_backend import *

def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    with open(os.environ["BUILD_LOG"], "a") as log:
        log.write(json.dumps([os.path.basename(os.getcwd()), os.getppid()]) + "\\n")
    return base.build_wheel(wheel_directory, config_settings, metadata_directory)

def get_requires_for_build_wheel(config_settings=None):
    return json.loads(os.environ.get("BUILD_REQUIRES", "[]"))
"""


def project(tmp_path: Path, name: str, run: list[str], build: list[str] | None = None) -> Path:
    path = local_project(tmp_path, name, run)
    (path / "_backend" / "logged.py").write_text(LOGGED)
    pyproject = path / "pyproject.toml"
    text = pyproject.read_text().replace('build-backend = "minimal_backend"', 'build-backend = "logged"')
    if build:
        text = text.replace("requires = []", f"requires = {json.dumps(build)}", 1)
    pyproject.write_text(text)
    return path


@pytest.fixture
def build_log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    log = tmp_path / "builds.log"
    monkeypatch.setenv("BUILD_LOG", str(log))
    return log


def request(prefix: Path, tmp_path: Path, *sources: Path, **kwargs: object) -> BuildRequest:
    return BuildRequest(
        sources, tmp_path / "out", tmp_path / "channel", probe(prefix), overrides=NO_USER_MAPPING, **kwargs
    )  # type: ignore[arg-type]


def test_chained_projects_build_in_order_each_against_the_ones_before(
    prefix: Path, tmp_path: Path, build_log: Path
) -> None:
    base = project(tmp_path / "src", "chain-a", [])
    middle = project(tmp_path / "src", "chain-b", ["chain-a"], build=["chain-a"])  # needs chain-a to build
    top = project(tmp_path / "src", "chain-c", ["chain-b"])
    result = build_local(request(prefix, tmp_path, top, base, middle))
    assert result.waves == ((base,), (middle,), (top,))
    assert [r.source for r in result.results] == [top, base, middle]  # in the order given
    assert [json.loads(line)[0] for line in build_log.read_text().splitlines()] == ["chain-a", "chain-b", "chain-c"]
    (b_package,) = result.results[2].packages
    assert "chain-a" in b_package.depends
    # chain-b's build requirement came from the output channel, built moments before
    (record,) = (prefix / "conda-meta").glob("chain-a-*.json")
    assert str(PrefixRecord.from_path(record).channel).rstrip("/") == (tmp_path / "channel").as_uri()
    # the channel serves the whole chain: a fresh environment installs the top and gets the rest
    fresh = make_test_prefix(tmp_path / "fresh")
    link = RattlerInstaller(probe(fresh), [(tmp_path / "channel").as_uri()]).install(["chain-c"]).link
    assert sorted(dist.rsplit("-", 2)[0] for dist in link) == ["chain-a", "chain-b", "chain-c"]


def test_independent_projects_build_in_parallel_worker_processes(prefix: Path, tmp_path: Path, build_log: Path) -> None:
    sources = [project(tmp_path / "src", f"free-{i}", []) for i in range(4)]
    result = build_local(request(prefix, tmp_path, *sources, jobs=2))
    assert result.waves == (tuple(sources),)
    assert [p.identity.name for p in result.packages] == ["free-0", "free-1", "free-2", "free-3"]
    workers = {parent for _, parent in (json.loads(line) for line in build_log.read_text().splitlines())}
    assert len(workers) == 2  # two worker processes shared the four builds
    repodata = json.loads((tmp_path / "channel" / "noarch" / "repodata.json").read_text())
    assert len(repodata["packages.conda"]) == 4


def test_a_directory_of_projects_builds_them_all(prefix: Path, tmp_path: Path, build_log: Path) -> None:
    monorepo = tmp_path / "monorepo"
    project(monorepo, "mono-core", [])
    project(monorepo, "mono-app", ["mono-core"])
    (monorepo / "docs").mkdir()  # not a project: ignored
    result = build_local(request(prefix, tmp_path, monorepo))
    assert result.waves == ((monorepo / "mono-core",), (monorepo / "mono-app",))
    assert [r.source.name for r in result.results] == ["mono-app", "mono-core"]


def test_a_failing_project_fails_the_run_with_its_own_message(prefix: Path, tmp_path: Path, build_log: Path) -> None:
    good = project(tmp_path / "src", "fine-demo", [])
    bad = Path(shutil.copytree(PROJECTS / "bad-backend", tmp_path / "src" / "bad-backend"))
    (bad / "MODE").write_text("raise")
    with pytest.raises(BackendError) as caught:
        build_local(request(prefix, tmp_path, good, bad, jobs=2))
    assert str(caught.value) == (
        f"{bad}: build backend failed in build_wheel: the backend exited with status 1; its output is above, "
        "fix what it reports and run again"
    )
    assert "RuntimeError: build_wheel raised on purpose" in caught.value.output  # sent back from the worker


def test_projects_that_need_each_other_in_a_cycle(prefix: Path, tmp_path: Path) -> None:
    first = project(tmp_path / "src", "loop-a", ["loop-b"])
    second = project(tmp_path / "src", "loop-b", ["loop-a"])
    with pytest.raises(TargetError) as caught:
        build_local(request(prefix, tmp_path, first, second))
    assert str(caught.value) in {
        f"the local projects depend on each other in a cycle ({cycle}); break the cycle"
        for cycle in ("loop-a -> loop-b -> loop-a", "loop-b -> loop-a -> loop-b")
    }


def test_two_sources_of_one_package(prefix: Path, tmp_path: Path) -> None:
    first = project(tmp_path / "one", "twin-demo", [])
    second = project(tmp_path / "two", "twin-demo", [])
    with pytest.raises(TargetError) as caught:
        build_local(request(prefix, tmp_path, first, second))
    assert str(caught.value) == (
        f"{first} and {second} both build the conda package 'twin-demo'; build them in separate runs"
    )


@pytest.mark.network
@pytest.mark.slow
def test_what_backends_ask_for_is_installed_once_for_the_wave(
    build_channel: str, prefix: Path, tmp_path: Path, build_log: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BUILD_REQUIRES", json.dumps(["six"]))
    sources = [project(tmp_path / "src", f"asks-{i}", []) for i in range(2)]
    result = build_local(request(prefix, tmp_path, *sources, channels=(build_channel,), jobs=2))
    assert [dist.rsplit("-", 2)[0] for dist in result.installed] == ["six"]
    assert [p.identity.name for p in result.packages] == ["asks-0", "asks-1"]


def test_cli_builds_several_projects(
    prefix: Path, tmp_path: Path, build_log: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    core = project(tmp_path / "src", "cli-core", [])
    app = project(tmp_path / "src", "cli-app", ["cli-core"])
    out = tmp_path / "out"
    code = main(
        ["build-local", str(app), str(core), "-p", str(prefix), "--output-dir", str(out), "--json", "--no-user-mapping"]
    )
    text, err = capsys.readouterr()
    assert (code, err) == (0, "")
    document = json.loads(text)
    assert [p["source"] for p in document["projects"]] == [str(app), str(core)]
    assert document["waves"] == [[str(core)], [str(app)]]
    assert sorted(Path(p["path"]).name.split("-0.4.0")[0] for p in document["packages"]) == ["cli-app", "cli-core"]
    code = main(["build-local", str(app), str(core), "-p", str(prefix), "--output-dir", str(out), "--no-user-mapping"])
    text, _ = capsys.readouterr()
    assert code == 0
    assert text.splitlines()[:2] == [f"Wave 1: {core}", f"Wave 2: {app}"]
