"""The conda plugin against real conda: subcommands, conda list/install/remove/env export.

Marked ``conda``: skipped, with the reason, where conda is not importable (as in CI).
conda runs as ``python -m conda`` with HOME in a temporary folder, offline, with the solver
that CONDA_SOLVER names (``rattler`` or ``classic``), or else conda-rattler-solver when it is
installed and conda's classic solver when it is not.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from support import bad_backend_project, copy_project, local_project
from wheelmaker import make_wheel

from conda_source.cli import main
from conda_source.testing import make_test_prefix
from conda_source.testing.channel import make_channel

pytestmark = pytest.mark.conda
SOLVER_NAME = os.environ.get("CONDA_SOLVER") or (
    "rattler" if importlib.util.find_spec("conda_rattler_solver") else "classic"
)
SOLVER = ["--solver", SOLVER_NAME]


def conda_env(home: Path, **extra: str) -> dict[str, str]:
    """The environment of every conda run: HOME and package cache in the test's folder, the chosen solver."""
    return {
        **os.environ,
        "HOME": str(home),
        "CONDA_PKGS_DIRS": str(home / "pkgs"),
        "CONDA_SOLVER": SOLVER_NAME,
        **extra,
    }


def conda(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = conda_env(home)
    env.pop("CONDA_PREFIX", None)
    return subprocess.run([sys.executable, "-m", "conda", *args], capture_output=True, text=True, env=env)


@pytest.fixture
def home(tmp_path: Path) -> Path:
    (tmp_path / "home").mkdir()
    return tmp_path / "home"


@pytest.fixture
def env(tmp_path: Path) -> Path:
    return make_test_prefix(tmp_path / "env")


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return copy_project("in-tree-editable", tmp_path)


def listed(home: Path, env: Path) -> list[dict[str, str]]:
    result = conda(home, "list", "-p", str(env), "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def test_subcommands_are_listed(home: Path) -> None:
    result = conda(home, "--help")
    assert result.returncode == 0, result.stderr
    assert "develop-install" in result.stdout and "build-local" in result.stdout


def test_develop_install_is_listed_once_and_survives_a_later_install(
    home: Path, env: Path, project: Path, tmp_path: Path
) -> None:
    result = conda(home, "develop-install", str(project), "-p", str(env), "--no-user-mapping")
    assert result.returncode == 0, result.stderr
    rows = [row for row in listed(home, env) if row["name"] == "in-tree-editable"]
    assert len(rows) == 1 and rows[0]["channel"] == "local-develop" and rows[0]["build_string"].startswith("editable_h")
    assert not [row for row in listed(home, env) if row["channel"] == "pypi"]

    # conda-pypi#434: a later conda install must not break or drop the develop install.
    channel = tmp_path / "channel"
    make_channel(channel, [make_wheel(tmp_path, name="extra_pkg", version="2.0")])
    installed = conda(home, "install", "-p", str(env), "-c", channel.as_uri(), "extra-pkg", "-y", "--offline", *SOLVER)
    assert installed.returncode == 0, installed.stderr
    names = [row["name"] for row in listed(home, env)]
    assert names.count("in-tree-editable") == 1 and "extra-pkg" in names
    run = subprocess.run([env / "bin" / "in-tree-editable"], capture_output=True, text=True)
    assert run.stdout == "in-tree-editable says from the checkout\n", run.stderr


def test_conda_remove_removes_every_file_and_the_record(home: Path, env: Path, project: Path) -> None:
    assert conda(home, "develop-install", str(project), "-p", str(env), "--no-user-mapping").returncode == 0
    (record,) = (env / "conda-meta").glob("in-tree-editable-*.json")
    files = [env / f for f in json.loads(record.read_text())["files"]]
    assert all(f.exists() for f in files)
    removed = conda(home, "remove", "-p", str(env), "in-tree-editable", "-y", "--offline", *SOLVER)
    assert removed.returncode == 0, removed.stderr + removed.stdout
    assert not record.exists()
    assert not [f for f in files if f.exists()]
    assert "in-tree-editable" not in [row["name"] for row in listed(home, env)]


def test_build_local_output_installs_with_conda(home: Path, env: Path, tmp_path: Path) -> None:
    wheel = make_wheel(tmp_path, name="local_tool", version="1.5")
    channel = tmp_path / "local-channel"
    built = conda(
        home,
        "build-local",
        str(wheel),
        "--output-dir",
        str(tmp_path / "out"),
        "--channel-dir",
        str(channel),
        "--no-user-mapping",
    )
    assert built.returncode == 0, built.stderr
    installed = conda(home, "install", "-p", str(env), "-c", channel.as_uri(), "local-tool", "-y", "--offline", *SOLVER)
    assert installed.returncode == 0, installed.stderr
    run = subprocess.run(
        [env / "bin" / "python", "-c", "import local_tool; print(local_tool.VALUE)"], capture_output=True, text=True
    )
    assert run.stdout == "1\n", run.stderr


def test_build_local_follows_conda_builds_compression_setting(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """conda-build's condarc setting conda_build: zstd_compression_level, unless --compression-level says otherwise:
    each package is byte for byte the one the standalone command writes at that level."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    wheel = make_wheel(tmp_path, name="packed", files={"packed/__init__.py": b"VALUE = 1\n" * 50000})
    (home / ".condarc").write_text("conda_build:\n  zstd_compression_level: 1\n")
    for out, options, level in (("condarc", [], "1"), ("option", ["--compression-level", "19"], "19")):
        built = conda(
            home, "build-local", str(wheel), "--output-dir", str(tmp_path / out), *options, "--no-user-mapping"
        )
        assert built.returncode == 0, built.stderr
        standalone = ["build-local", str(wheel), "--output-dir", str(tmp_path / f"standalone-{level}")]
        assert main([*standalone, "--compression-level", level, "--no-user-mapping"]) == 0
        (package,) = (tmp_path / out).glob("*.conda")
        assert package.read_bytes() == (tmp_path / f"standalone-{level}" / package.name).read_bytes(), out
    sizes = [next((tmp_path / out).glob("*.conda")).stat().st_size for out in ("condarc", "option")]
    assert sizes[0] > sizes[1]  # level 1 packs less tightly than 19
    (home / ".condarc").write_text("conda_build:\n  zstd_compression_level: max\n")
    refused = conda(home, "build-local", str(wheel), "--output-dir", str(tmp_path / "refused"))
    assert refused.returncode == 1 and "Traceback" not in refused.stderr
    assert (
        "SettingError: condarc setting conda_build: zstd_compression_level: 'max' is not a compression level: use a "
        "whole number from 1 (fastest) to 22 (smallest files); the default is 19 (correct it in the .condarc that "
        "'conda config --show-sources' lists, or pass --compression-level N)"
    ) in refused.stderr
    assert not (tmp_path / "refused").exists()


def test_errors_reach_the_user_as_one_conda_error(home: Path, env: Path, tmp_path: Path) -> None:
    result = conda(home, "develop-install", str(tmp_path / "missing"), "-p", str(env))
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert f"{tmp_path / 'missing'}: no such file or directory" in result.stderr


def test_env_export_leaves_the_develop_install_out(home: Path, env: Path, project: Path) -> None:
    """No channel has it, so conda env create could not use a file that lists it (more in test_conda_export)."""
    assert conda(home, "develop-install", str(project), "-p", str(env), "--no-user-mapping").returncode == 0
    exported = conda(home, "env", "export", "-p", str(env), "--json")
    assert exported.returncode == 0, exported.stderr
    assert "in-tree-editable" not in exported.stdout and "local-develop" not in exported.stdout
    assert f"conda-source: in-tree-editable 0.4.0 (develop install of {project}) is left out" in exported.stderr


def project_needing(tmp_path: Path, name: str, dependency: str) -> Path:

    return local_project(tmp_path, name, [dependency])


def test_dependencies_go_through_condas_own_transaction(home: Path, env: Path, tmp_path: Path) -> None:
    channel = tmp_path / "channel"
    make_channel(channel, [make_wheel(tmp_path, name="helper_lib", version="1.2")])
    project = project_needing(tmp_path, "uses-helper", "helper-lib>=1")
    args = ["develop-install", str(project), "-p", str(env), "-c", channel.as_uri(), "--override-channels"]
    result = conda(home, *args, "--offline", "-y", "--no-user-mapping", *SOLVER)
    assert result.returncode == 0, result.stderr + result.stdout
    history = (env / "conda-meta" / "history").read_text()
    # conda's own History writes its version line; our RattlerInstaller never does.
    conda_block = next(block for block in history.split("==> ") if "helper-lib-1.2" in block)
    assert "# conda version: " in conda_block
    # A requirement of the project, not a spec the user asked for: no update specs, no requested_spec.
    assert "# update specs: " not in conda_block
    record = json.loads(next((env / "conda-meta").glob("helper-lib-1.2-*.json")).read_text())
    assert not record.get("requested_spec")
    project_block = next(block for block in history.split("==> ") if "+local-develop/" in block)  # as conda names it
    assert "::uses-helper-" in project_block
    assert "# update specs: ['uses-helper']" in project_block
    assert "# conda-source run requirements: ['helper-lib >=1']" in project_block
    assert [r["name"] for r in listed(home, env)].count("uses-helper") == 1
    exported = conda(home, "env", "export", "-p", str(env), "--from-history", "--json")
    assert exported.returncode == 0, exported.stderr
    requested = [d for d in json.loads(exported.stdout)["dependencies"] if isinstance(d, str)]
    assert sorted(spec.split("=")[0] for spec in requested) == ["python"]  # the develop install: left out


@pytest.mark.parametrize("source", ["condarc", "environment"])
def test_mapping_setting_from_condarc_or_environment(home: Path, env: Path, tmp_path: Path, source: str) -> None:
    channel = tmp_path / "channel"
    make_channel(channel, [make_wheel(tmp_path, name="renamed_lib", version="3.0")])
    project = project_needing(tmp_path, "uses-renamed", "original-lib>=3")
    extra_env = {}
    if source == "condarc":
        (home / ".condarc").write_text("plugins:\n  conda_source_mapping:\n    - original-lib=renamed-lib\n")
    else:
        extra_env["CONDA_PLUGINS_CONDA_SOURCE_MAPPING"] = "original-lib=renamed-lib|unused=nothing"
    args = ["develop-install", str(project), "-p", str(env), "-c", channel.as_uri(), "--override-channels"]
    result = subprocess.run(
        [sys.executable, "-m", "conda", *args, "--offline", "-y", "--no-user-mapping", "--dry-run", "--json", *SOLVER],
        capture_output=True,
        text=True,
        env=conda_env(home, **extra_env),
    )
    assert result.returncode == 0, result.stderr + result.stdout
    (plan,) = json.loads(result.stdout)["plans"]
    (item,) = [r for r in plan["run"] if r["requirement"] == "original-lib>=3"]
    assert item["specs"] == ["renamed-lib >=3"]
    assert item["provenance"] == [
        {"source": "conda-config", "detail": "plugins.conda_source_mapping original-lib=renamed-lib"}
    ]


def test_editable_default_from_settings(home: Path, env: Path, project: Path) -> None:
    args = ["develop-install", str(project), "-p", str(env), "--no-user-mapping"]
    result = subprocess.run(
        [sys.executable, "-m", "conda", *args],
        capture_output=True,
        text=True,
        env=conda_env(home, CONDA_PLUGINS_CONDA_SOURCE_EDITABLE="false"),
    )
    assert result.returncode == 0, result.stderr
    (record,) = (env / "conda-meta").glob("in-tree-editable-*.json")
    assert json.loads(record.read_text())["build"].startswith("develop_h")
    out = subprocess.run(
        [env / "bin" / "python", "-c", "import in_tree_editable; print(in_tree_editable.__file__)"],
        capture_output=True,
        text=True,
    )
    assert Path(out.stdout.strip()).is_relative_to(env)


def test_conda_doctor_reports_and_fixes(home: Path, env: Path, project: Path) -> None:
    assert conda(home, "develop-install", str(project), "-p", str(env), "--no-user-mapping").returncode == 0
    healthy = conda(home, "doctor", "-p", str(env))
    assert healthy.returncode == 0, healthy.stderr
    assert "conda-source develop installs are up to date and intact." in healthy.stdout
    shutil.rmtree(project)
    stale = conda(home, "doctor", "-p", str(env))
    assert "conda-source develop installs that need attention:" in stale.stdout
    assert f"in-tree-editable ({project}): stale: its source directory is gone" in stale.stdout
    fixed = conda(home, "doctor", "-p", str(env), "--fix", "-y")
    assert fixed.returncode == 0, fixed.stderr
    assert f"remove the develop install of {project} (its source is gone)" in fixed.stdout
    (record,) = [line for line in fixed.stdout.splitlines() if line.startswith("Removed local-develop::")]
    assert record.startswith("Removed local-develop::in-tree-editable-0.4.0-editable_h")  # said after it acted
    assert not list((env / "conda-meta").glob("in-tree-editable-*.json"))


def test_json_output_is_one_document(home: Path, env: Path, project: Path) -> None:
    result = conda(home, "develop-install", str(project), "-p", str(env), "--no-user-mapping", "--json")
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)  # nothing else on stdout
    assert [p["name"] for p in document["projects"]] == ["in-tree-editable"]


def test_backend_failure_shows_its_output_then_one_error(home: Path, env: Path, project: Path) -> None:
    backend = project / "_backend" / "minimal_backend.py"
    backend.write_text(
        backend.read_text()
        + "\n\ndef build_editable(*args, **kwargs):\n    print('the compiler said no')\n    raise SystemExit(3)\n"
    )
    result = conda(home, "develop-install", str(project), "-p", str(env), "--no-user-mapping")
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert result.stderr.index("the compiler said no") < result.stderr.index("build backend failed in build_editable")


def test_frozen_environment_is_respected(home: Path, env: Path, tmp_path: Path) -> None:
    channel = tmp_path / "channel"
    make_channel(channel, [make_wheel(tmp_path, name="helper_lib", version="1.2")])
    (env / "conda-meta" / "frozen").write_text("{}")
    project = project_needing(tmp_path, "uses-helper", "helper-lib>=1")
    args = ["develop-install", str(project), "-p", str(env), "-c", channel.as_uri(), "--override-channels"]
    result = conda(home, *args, "--offline", "-y", "--no-user-mapping", *SOLVER)
    assert result.returncode != 0
    assert "frozen" in (result.stderr + result.stdout).lower()
    assert not list((env / "conda-meta").glob("helper-lib-*.json"))


def test_pinned_packages_are_respected(home: Path, env: Path, tmp_path: Path) -> None:
    """As `conda install` does: the rattler solver refuses; the classic solver overrides a pin that conflicts
    with an explicit spec, and says so (conda's documented behaviour, kept: conda-source asks conda's solver)."""
    channel = tmp_path / "channel"
    make_channel(channel, [make_wheel(tmp_path, name="helper_lib", version="1.2")])
    (env / "conda-meta" / "pinned").write_text("helper-lib <1\n")
    project = project_needing(tmp_path, "uses-helper", "helper-lib>=1")
    args = ["develop-install", str(project), "-p", str(env), "-c", channel.as_uri(), "--override-channels"]
    result = conda(home, *args, "--offline", "-y", "--no-user-mapping", *SOLVER)
    if SOLVER_NAME == "classic":
        assert result.returncode == 0, result.stderr
        assert "conflicts with explicit specs" in result.stderr + result.stdout
        return
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert "helper-lib" in result.stderr
    assert not list((env / "conda-meta").glob("helper-lib-*.json"))


@pytest.mark.parametrize(
    ("mode", "last_line"),
    [
        ("exit", "build backend failed in build_editable: the backend exited with status 3"),
        ("bad-requires", "build backend failed in get_requires_for_build_editable: the backend asked for an invalid"),
        ("bad-metadata", "build backend failed in prepare_metadata_for_build_editable: the backend wrote invalid"),
        ("not-zip", "build backend failed in build_editable: the backend wrote 'bad_backend_demo-1.0-py3-none-any"),
    ],
)
def test_failing_backends_through_conda(home: Path, env: Path, tmp_path: Path, mode: str, last_line: str) -> None:
    """The failing-backend corpus through conda's front end: the backend's output, then one conda error."""
    project = bad_backend_project(tmp_path, mode)
    result = conda(home, "develop-install", str(project), "-p", str(env), "--no-user-mapping")
    assert result.returncode != 0
    assert "Traceback" not in result.stderr.split("the compiler said no")[-1]
    assert f"{project}: {last_line}" in result.stderr
    if mode == "exit":
        assert result.stderr.index("the compiler said no") < result.stderr.index("build backend failed")
    assert not list((env / "conda-meta").glob("bad-backend-demo-*.json"))


def test_a_closed_output_pipe_inside_conda_stops_the_run_cleanly(home: Path, env: Path, project: Path) -> None:
    """``conda develop-install . | head -0``: conda's own progress output goes to the closed pipe, so the run
    stops before any change; one line on stderr says so (no traceback, no conda error report), SIGPIPE's exit
    status, and the environment as it was."""
    reader, writer = os.pipe()
    os.close(reader)
    try:
        command = [sys.executable, "-m", "conda", "develop-install", str(project), "-p", str(env), "--no-user-mapping"]
        environ = conda_env(home)
        environ.pop("CONDA_PREFIX", None)
        completed = subprocess.run(command, stdout=writer, stderr=subprocess.PIPE, text=True, env=environ)
    finally:
        os.close(writer)
    assert completed.returncode == 141, completed.stderr
    assert completed.stderr.splitlines()[-1] == (
        "conda-source: standard output was closed before the run ended; everything the run had changed was put "
        "back, so the environment is as it was before it"
    )
    assert "Traceback" not in completed.stderr
    assert [row["name"] for row in listed(home, env)] == ["python"]


@pytest.mark.conda
def test_a_write_the_os_refuses_is_a_conda_error_not_a_report(home: Path, tmp_path: Path) -> None:
    """Inside conda too, a failure no check foresees (a file size limit, as a full disk) is one message."""
    import resource
    import signal

    blobs = {f"demo/blob{i}.bin": os.urandom(600 << 10) for i in range(2)}  # each fits, their tarball does not
    wheel = make_wheel(tmp_path, files={"demo/__init__.py": b"", **blobs})
    out = tmp_path / "out"

    def limited() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (1 << 20, 1 << 20))

    command = [sys.executable, "-m", "conda", "build-local", str(wheel), "--output-dir", str(out)]
    env = conda_env(home)
    result = subprocess.run(command, capture_output=True, text=True, env=env, preexec_fn=limited)
    assert result.returncode == 1, result.stderr
    assert "ERROR REPORT" not in result.stderr and "Traceback" not in result.stderr, result.stderr
    assert f"{out}/" in result.stderr and "File too large; the run stopped there and undid" in result.stderr
    assert not out.exists()


@pytest.mark.conda
def test_a_write_refused_in_a_hook_is_a_conda_error_that_does_not_claim_an_undo() -> None:
    """A hook's action runs inside a conda command whose own changes stay: the line says so."""
    import errno

    from conda.exceptions import CondaError

    from conda_source.cli.conda_adapter import as_conda_errors

    def full_disk() -> None:
        raise OSError(errno.ENOSPC, "No space left on device", "/envs/new/conda-meta/conda-source/demo.json")

    with pytest.raises(CondaError) as raised:
        as_conda_errors(full_disk)()
    assert str(raised.value) == (
        "/envs/new/conda-meta/conda-source/demo.json: No space left on device; conda-source's part of this conda "
        "command stopped there (conda's own changes stay): check that path (permissions, free space, file system), "
        "then run conda doctor"
    )
