"""RattlerInstaller and the channel checks: one transaction, nothing else changed, conda's fields kept."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from support import local_project, tree_digest
from wheelmaker import make_wheel

from conda_source.installer.installer import RattlerInstaller, SolveError, channel_urls
from conda_source.target import probe
from conda_source.testing import make_test_prefix
from conda_source.testing.channel import make_channel


def test_installer_dry_run_touches_nothing(tmp_path: Path) -> None:
    make_channel(tmp_path / "ch", [make_wheel(tmp_path, name="demo")])
    prefix = make_test_prefix(tmp_path / "env")
    before = tree_digest(prefix)
    transaction = RattlerInstaller(probe(prefix), [(tmp_path / "ch").as_uri()]).install(["demo"], dry_run=True)
    assert [dist.rsplit("-", 2)[0] for dist in transaction.link] == ["demo"]
    assert tree_digest(prefix) == before


def test_installer_leaves_existing_records_byte_identical(tmp_path: Path) -> None:
    """Installing more keeps every earlier record (and its requested_spec) exactly as it was; what it
    installs is a requirement, never a requested spec."""
    make_channel(tmp_path / "ch", [make_wheel(tmp_path, name="first"), make_wheel(tmp_path, name="second")])
    prefix = make_test_prefix(tmp_path / "env")
    installer = RattlerInstaller(probe(prefix), [(tmp_path / "ch").as_uri()], command="test")
    installer.install(["first"])
    records = {p.name: p.read_bytes() for p in (prefix / "conda-meta").glob("*.json")}
    installer.install(["second >=1"])
    after = {p.name: p.read_bytes() for p in (prefix / "conda-meta").glob("*.json")}
    assert {name: after[name] for name in records} == records
    second = json.loads(next((prefix / "conda-meta").glob("second-*.json")).read_text())
    assert not second.get("requested_spec")
    assert json.loads(next((prefix / "conda-meta").glob("python-*.json")).read_text())["requested_spec"] == "python"
    run = subprocess.run([prefix / "bin" / "python", "-c", "import first, second"], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr


def test_no_cache_tag_is_left_in_the_environment(tmp_path: Path) -> None:
    """py-rattler 0.28+ writes CACHEDIR.TAG into the prefix it installs into, which makes backup tools skip the
    environment: an install and its undo leave none behind, and one that was there stays."""
    make_channel(tmp_path / "ch", [make_wheel(tmp_path, name="demo")])
    prefix = make_test_prefix(tmp_path / "env")
    installer = RattlerInstaller(probe(prefix), [(tmp_path / "ch").as_uri()])
    snapshot = installer.snapshot()
    assert installer.install(["demo"]).link
    assert list((prefix / "conda-meta").glob("demo-*.json")) and not (prefix / "CACHEDIR.TAG").exists()
    assert [d.rsplit("::")[-1].rsplit("-", 2)[0] for d in installer.restore(snapshot)] == ["demo"]
    assert not (prefix / "CACHEDIR.TAG").exists()
    tagged = make_test_prefix(tmp_path / "tagged")
    (tagged / "CACHEDIR.TAG").write_text("Signature: 8a477f597d28d172789f06886806bc55\n# the user's own\n")
    RattlerInstaller(probe(tagged), [(tmp_path / "ch").as_uri()]).install(["demo"])
    assert (tagged / "CACHEDIR.TAG").read_text().endswith("# the user's own\n")


def test_nothing_to_solve_touches_nothing_and_needs_no_channel(tmp_path: Path) -> None:
    prefix = make_test_prefix(tmp_path / "env")
    before = tree_digest(prefix)
    transaction = RattlerInstaller(probe(prefix), []).install(["python >=3.8"])
    assert transaction.link == ()
    assert tree_digest(prefix) == before  # no history entry either


def test_no_channels_is_a_clear_error(tmp_path: Path) -> None:
    prefix = make_test_prefix(tmp_path / "env")
    with pytest.raises(SolveError) as caught:
        RattlerInstaller(probe(prefix), []).install(["six"])
    assert str(caught.value) == "cannot install six: no channels to install from; pass -c CHANNEL"


def test_channel_forms(tmp_path: Path) -> None:
    make_channel(tmp_path / "ch", [make_wheel(tmp_path, name="demo")])
    assert channel_urls(["conda-forge", "conda-forge/label/dev", "https://example.org/ch"]) == (
        "conda-forge",
        "conda-forge/label/dev",
        "https://example.org/ch",
    )
    local = (tmp_path / "ch").as_uri()
    assert channel_urls([str(tmp_path / "ch"), local, f"{local}/"]) == (local, local, local)


def test_history_names_what_was_linked_and_asked_for(tmp_path: Path) -> None:
    make_channel(tmp_path / "ch", [make_wheel(tmp_path, name="demo", version="2.0")])
    prefix = make_test_prefix(tmp_path / "env")
    RattlerInstaller(probe(prefix), [(tmp_path / "ch").as_uri()], command="conda-source develop-install .").install(
        ["demo >=2"]
    )
    block = (prefix / "conda-meta" / "history").read_text().split("==> ")[-1]
    lines = block.splitlines()
    assert lines[1:3] == ["# cmd: conda-source develop-install .", "# conda-source version: 0.1.0"]
    (linked,) = [line for line in lines if line.startswith("+")]
    assert linked.startswith(f"+{(tmp_path / 'ch').as_uri()}::demo-2.0-")
    assert lines[-1] == "# conda-source requirements: ['demo >=2']"  # never a spec the user asked for


@pytest.mark.parametrize(
    ("dependencies", "asked"),
    [
        pytest.param(["helper-lib<2"], "'helper-lib <2dev0'", id="the-project-asks-for-it"),
        pytest.param(["needs-old"], "'needs-old'", id="a-dependency-asks-for-it"),
    ],
)
def test_a_solve_that_needs_an_installed_package_changed_says_to_change_it_first(
    tmp_path: Path, dependencies: list[str], asked: str
) -> None:
    """Installed packages are locked in the standalone solve: when the project needs one changed, the error names
    it and says how to change it, not to add a channel or a --map; the environment is left as it was."""
    channel = tmp_path / "ch"
    wheels = [make_wheel(tmp_path, name="helper_lib", version=v) for v in ("1.2", "2.0")]
    make_channel(channel, [*wheels, make_wheel(tmp_path, name="needs_old", requires=("helper-lib<2",))])
    prefix = make_test_prefix(tmp_path / "env")
    RattlerInstaller(probe(prefix), [channel.as_uri()]).install(["helper-lib ==2.0"])
    before = tree_digest(prefix)
    project = local_project(tmp_path, "uses-helper", dependencies)
    args = ["develop-install", str(project), "-p", str(prefix), "-c", channel.as_uri(), "--no-user-mapping"]
    result = subprocess.run([sys.executable, "-m", "conda_source", *args], capture_output=True, text=True)
    assert result.returncode == 1
    lines = result.stderr.splitlines()
    assert "└─ helper-lib 2.0 is locked, but another version is required as reported above" in lines  # rattler's
    assert f"  {asked[1:-1]}  <-  {dependencies[0]}  ({project}/pyproject.toml: project.dependencies[0])" in lines
    assert lines[-1] == (
        f"to fix it: 'helper-lib 2.0' is installed in {prefix} and conda-source does not change installed packages "
        f"on its own: change it first (conda install -p {prefix} {asked}, or with pixi/micromamba), then run this again"
    )
    assert tree_digest(prefix) == before
