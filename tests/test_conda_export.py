"""conda's own ways of writing an environment down, with a develop install in it (issue 14), against real conda:
``conda env export`` / ``conda export`` leave it out and say so, ``conda list --explicit`` names its checkout and
``conda create --file`` says how to get it back, ``conda install --revision N`` says how to get it back.

Marked ``conda``; every conda run uses the solver CONDA_SOLVER names (see test_conda_plugin).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import test_conda_issue14
from test_conda_plugin import SOLVER, conda, conda_env, listed

from conda_source.testing import make_test_prefix

pytestmark = pytest.mark.conda
# The fixtures of test_conda_issue14: a HOME per test, a channel with helper-lib 1.2, uses-helper needing it.
home, channel, project = test_conda_issue14.home, test_conda_issue14.channel, test_conda_issue14.project

FIXTURE_CHANNEL = "file:///conda-source-testing"  # make_test_prefix's python record: no such channel exists


def on(home: Path, env: Path, channel: str, *args: str) -> tuple[int, str, str]:
    result = conda(home, *args, "-p", str(env), "-c", channel, "--override-channels", "--offline", *SOLVER)
    return result.returncode, result.stdout, result.stderr


def develop(home: Path, env: Path, channel: str, project: Path) -> None:
    code, out, err = on(home, env, channel, "develop-install", str(project), "-y", "--no-user-mapping")
    assert code == 0, err + out


def notice(project: Path) -> str:
    return (
        f"conda-source: uses-helper 0.4.0 (develop install of {project}) is left out of this export: no channel has "
        f"it. After creating an environment from the file, re-create it with conda develop-install {project} -n ENV; "
        "or export with conda export --format conda-source --file ENV.conda-source.yml, which carries it."
    )


EXPORTS = {
    "env export": ("env", "export"),
    "export": ("export",),
    "export --json": ("export", "--json"),
    "export --from-history": ("export", "--from-history"),
    "export --no-builds": ("export", "--no-builds"),
    "export --format explicit": ("export", "--format", "explicit"),
    "export --format requirements": ("export", "--format", "requirements"),
}


def test_condas_exports_leave_the_develop_install_out_and_say_so(
    home: Path, channel: str, project: Path, tmp_path: Path
) -> None:
    """Each export is what it was before the develop install (its dependency installed first), plus one notice."""
    env = make_test_prefix(tmp_path / "env")
    assert on(home, env, channel, "install", "helper-lib", "-y")[0] == 0
    before = {}
    for label, args in EXPORTS.items():
        result = conda(home, *args, "-p", str(env))
        assert result.returncode == 0 and result.stderr == "", (label, result.stderr)
        before[label] = result.stdout
    develop(home, env, channel, project)
    for label, args in EXPORTS.items():
        result = conda(home, *args, "-p", str(env))
        assert result.returncode == 0, (label, result.stderr)
        assert result.stdout == before[label], label
        assert result.stderr == notice(project) + "\n", label
    assert "local-develop" not in "".join(before.values()) and "uses-helper" not in "".join(before.values())
    assert conda(home, "export", "-p", str(env), "--quiet").stderr == ""
    # Every other command sees the develop install as before: conda list names it once, from local-develop.
    rows = [row for row in listed(home, env) if row["name"] == "uses-helper"]
    assert [row["channel"] for row in rows] == ["local-develop"]


def test_conda_env_update_from_condas_export_works(home: Path, channel: str, project: Path, tmp_path: Path) -> None:
    env = make_test_prefix(tmp_path / "env")
    develop(home, env, channel, project)
    exported = tmp_path / "environment.yml"
    result = conda(home, "env", "export", "-p", str(env), "--file", str(exported))
    assert result.returncode == 0 and result.stderr == notice(project) + "\n", result.stderr
    # make_test_prefix's python comes from a channel that does not exist; the fresh prefix has it already.
    lines = exported.read_text().splitlines()
    exported.write_text("\n".join(line for line in lines if FIXTURE_CHANNEL not in line) + "\n")
    fresh = make_test_prefix(tmp_path / "fresh")
    result = conda(home, "env", "update", "-f", str(exported), "-p", str(fresh), *SOLVER)
    assert result.returncode == 0, result.stderr + result.stdout
    names = {row["name"]: row for row in listed(home, fresh)}
    assert names["helper-lib"]["version"] == "1.2" and "uses-helper" not in names


def test_the_conda_source_format_carries_it_without_a_notice(
    home: Path, channel: str, project: Path, tmp_path: Path
) -> None:
    env = make_test_prefix(tmp_path / "env")
    develop(home, env, channel, project)
    exported = tmp_path / "env.conda-source.yml"
    result = conda(home, "export", "-p", str(env), "--file", str(exported))
    assert result.returncode == 0 and result.stderr == ""
    from conda.common.serialize import yaml

    document = yaml.read(path=exported)
    assert [entry["path"] for entry in document["conda-source"]["develop"]] == [str(project)]
    assert "local-develop" not in exported.read_text()


def test_an_older_export_that_lists_it_fails_with_a_hint(
    home: Path, channel: str, project: Path, tmp_path: Path
) -> None:
    """A file conda wrote before conda-source left develop installs out of its exports.

    Without its ``local-develop`` channel line: conda-rattler-solver 0.2.0 fails with a traceback on a channel
    that does not exist offline, before any hint could help.
    """
    env = make_test_prefix(tmp_path / "env")
    develop(home, env, channel, project)
    (record,) = (env / "conda-meta").glob("uses-helper-*.json")
    build = json.loads(record.read_text())["build"]
    old = tmp_path / "old.yml"
    old.write_text(f"channels:\n  - {channel}\ndependencies:\n  - uses-helper=0.4.0={build}\n")
    fresh = make_test_prefix(tmp_path / "fresh")
    command = [sys.executable, "-m", "conda", "env", "update", "-f", str(old), "-p", str(fresh), "--json", *SOLVER]
    result = subprocess.run(command, capture_output=True, text=True, env=conda_env(home, CONDA_OFFLINE="true"))
    assert result.returncode == 1
    hints = [hint["text"] for hint in json.loads(result.stdout)["guidance"]["hints"]]
    assert (
        "uses-helper was a develop install; conda cannot download it. Re-create it with conda develop-install "
        f"PATH-OF-ITS-CHECKOUT -p {fresh}, then run the command again."
    ) in hints
    assert any("export with conda export --format conda-source" in hint for hint in hints)


@pytest.mark.parametrize("flag", [(), ("--md5",)], ids=["explicit", "explicit-md5"])
def test_list_explicit_names_the_checkout_and_create_file_says_how_to_get_it_back(
    home: Path, channel: str, project: Path, tmp_path: Path, flag: tuple[str, ...]
) -> None:
    env = make_test_prefix(tmp_path / "env")
    develop(home, env, channel, project)
    result = conda(home, "list", "-p", str(env), "--explicit", *flag)
    assert result.returncode == 0, result.stderr
    urls = [line.split("#", 1)[0] for line in result.stdout.splitlines() if line.startswith("file://")]
    assert project.as_uri() in urls
    for url in urls:
        assert url.startswith(FIXTURE_CHANNEL) or Path(url.removeprefix("file://")).exists(), url
    explicit = tmp_path / "explicit.txt"
    explicit.write_text(result.stdout)
    new = tmp_path / "new"
    created = conda(home, "create", "-p", str(new), "--file", str(explicit), "--offline", *SOLVER)
    assert created.returncode == 1
    assert f"ParseError: Could not parse explicit URL: {project.as_uri()}" in created.stderr
    assert (
        f"{project.as_uri()} is the checkout of a conda-source develop install (conda list --explicit names it), "
        "not a package. Take that line out of the file and run the command again, then re-create the develop "
        f"install with conda develop-install {project} -p {new}."
    ) in created.stderr
    assert not new.exists()


def test_a_revision_whose_develop_install_is_gone_says_how_to_get_it_back(
    home: Path, channel: str, project: Path, tmp_path: Path
) -> None:
    """Uninstalled, so only the history knows the checkout; doing what the hint says makes the revision work."""
    env = make_test_prefix(tmp_path / "env")
    develop(home, env, channel, project)  # revision 1: helper-lib, 2: the develop install
    code, out, err = on(home, env, channel, "develop-install", "--uninstall", str(project), "-y")
    assert code == 0, err + out
    code, out, err = on(home, env, channel, "install", "--revision", "2", "-y")
    assert code == 1
    hint = (
        f"uses-helper was a develop install of {project}; conda cannot download it. Re-create it with conda "
        f"develop-install {project} -p {env}, then run the command again."
    )
    assert hint in err and "'local-develop' is no channel" not in err, err
    develop(home, env, channel, project)
    code, out, err = on(home, env, channel, "install", "--revision", "2", "-y")
    assert code == 0, err + out
    assert [row["channel"] for row in listed(home, env) if row["name"] == "uses-helper"] == ["local-develop"]


def test_list_export_leaves_the_develop_install_out_and_install_file_works(
    home: Path, channel: str, project: Path, tmp_path: Path
) -> None:
    """``conda list --export`` writes a file for ``conda create/install --file``: without the develop install
    (which no channel has), with the same notice as conda export; a plain listing still shows it."""
    env = make_test_prefix(tmp_path / "env")
    develop(home, env, channel, project)
    exported = conda(home, "list", "-p", str(env), "--export")
    assert exported.returncode == 0, exported.stderr
    assert [line for line in exported.stdout.splitlines() if not line.startswith("#")] == [
        line for line in exported.stdout.splitlines() if line.startswith(("helper-lib=", "python="))
    ]
    assert exported.stderr.strip() == notice(project)
    # A pattern that matches only the develop install: conda finds nothing to export and fails, still with the notice.
    only = conda(home, "list", "-p", str(env), "--export", "uses-helper")
    assert only.returncode != 0 and "uses-helper=" not in only.stdout, only.stdout
    assert only.stderr.strip().endswith(notice(project)), only.stderr
    assert "uses-helper" in [row["name"] for row in listed(home, env)]
    # With --json (or --canonical, --explicit, --revisions) conda lists instead of writing the file: all of it.
    as_json = conda(home, "list", "-p", str(env), "--export", "--json")
    assert as_json.returncode == 0 and "left out" not in as_json.stderr, as_json.stderr
    assert "uses-helper" in [row["name"] for row in json.loads(as_json.stdout)]
    spec_file = tmp_path / "spec.txt"
    spec_file.write_text(exported.stdout)
    new = make_test_prefix(tmp_path / "new")  # its python is the fixture's, which no channel has
    code, out, err = on(home, new, channel, "install", "--file", str(spec_file), "-y")
    assert code == 0, err + out
    assert sorted(row["name"] for row in listed(home, new)) == ["helper-lib", "python"]
