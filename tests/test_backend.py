"""The build backend's failures, end to end through the standalone command: the corpus in
tests/projects/bad-backend, one mode per way a backend can fail, each with its exact message
and the backend's own output shown before it (never hidden, never a traceback of ours)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from support import bad_backend_project, tree_digest

from conda_source.testing import make_test_prefix

EXITED = "the backend exited with status {}; its output is above, fix what it reports and run again"
# mode -> (hook for develop-install, hook for build-local, reason, text the backend printed, or None)
CASES = {
    "raise": (None, None, EXITED.format(1), "RuntimeError: {hook} raised on purpose"),
    "exit": (None, None, EXITED.format(3), "the compiler said no"),
    "segfault": (
        None,
        None,
        "the backend crashed (SIGSEGV); its output is above, fix what it reports and run again",
        "about to crash",
    ),
    "missing-wheel": (
        None,
        None,
        "the backend reported 'somebody-else-9.9-py3-none-any.whl' but did not write it",
        None,
    ),
    "not-zip": (
        None,
        None,
        "the backend wrote 'bad_backend_demo-1.0-py3-none-any.whl', which is not a wheel (zip) file",
        None,
    ),
    "bad-requires": (
        "get_requires_for_build_editable",
        "get_requires_for_build_wheel",
        "the backend asked for an invalid requirement '=not-a-requirement' "
        "(Expected package name at the start of dependency specifier); fix or upgrade it",
        None,
    ),
    "bad-metadata": (
        "prepare_metadata_for_build_editable",
        "build_wheel",
        "the backend wrote invalid metadata: 'not a valid requirement !!' is invalid for 'requires-dist'; "
        "fix the project's metadata",
        None,
    ),
}


@pytest.fixture(scope="module")
def shared_prefix(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_test_prefix(tmp_path_factory.mktemp("bad-backend") / "env")


def run(*args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "conda_source", *args, "--no-user-mapping"]
    return subprocess.run(command, capture_output=True, text=True)


@pytest.mark.parametrize("verb", ["develop-install", "build-local"])
@pytest.mark.parametrize("mode", sorted(CASES))
def test_a_failing_backend_says_what_failed_after_its_own_output(
    shared_prefix: Path, tmp_path: Path, mode: str, verb: str
) -> None:
    project = bad_backend_project(tmp_path, mode)
    develop_hook, build_hook, reason, printed = CASES[mode]
    hook = (develop_hook or "build_editable") if verb == "develop-install" else (build_hook or "build_wheel")
    before = tree_digest(shared_prefix)
    extra = ["--output-dir", str(tmp_path / "out")] if verb == "build-local" else []
    result = run(verb, str(project), "-p", str(shared_prefix), *extra)
    assert result.returncode == 1, result.stdout
    assert result.stdout == ""
    last = result.stderr.rstrip("\n").splitlines()[-1]
    assert last == f"conda-source: error: {project}: build backend failed in {hook}: {reason}"
    if printed is not None:
        assert printed.format(hook=hook) in result.stderr.split("conda-source: error:")[0]
    assert "conda_source/" not in result.stderr  # no frame of ours: the backend's output, then one line
    assert tree_digest(shared_prefix) == before  # nothing of the failed run is left in the environment
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").glob("*.conda"))


def test_a_backend_without_pep660_is_told_to_use_no_editable(shared_prefix: Path, tmp_path: Path) -> None:
    project = bad_backend_project(tmp_path, "no-pep660")
    result = run("develop-install", str(project), "-p", str(shared_prefix))
    assert result.returncode == 1
    assert result.stderr == (
        f"conda-source: error: {project}: build backend failed in build_editable: the backend has no "
        "'build_editable' hook (it predates PEP 660 editable installs); use --no-editable, or upgrade the backend\n"
    )
    regular = run("develop-install", str(project), "-p", str(shared_prefix), "--no-editable")
    assert regular.returncode == 0, regular.stderr
    python = shared_prefix / "bin" / "python"
    imported = subprocess.run(
        [python, "-c", "import bad_backend_demo; print(bad_backend_demo.VALUE)"], capture_output=True, text=True
    )
    assert imported.stdout == "1\n", imported.stderr


def test_a_backend_that_writes_no_metadata(shared_prefix: Path, tmp_path: Path) -> None:
    project = bad_backend_project(tmp_path, "no-metadata")
    result = run("develop-install", str(project), "-p", str(shared_prefix))
    assert result.returncode == 1
    assert result.stderr == (
        f"conda-source: error: {project}: build backend failed in prepare_metadata_for_build_editable: "
        "the backend reported 'bad_backend_demo-1.0.dist-info' but wrote no METADATA there\n"
    )


def test_a_requirement_the_backend_adds_is_named_as_the_backends(shared_prefix: Path, tmp_path: Path) -> None:
    from conda_source.installer.channel import index_channel

    project = bad_backend_project(tmp_path, "missing-requires")
    index_channel(tmp_path / "empty-channel")
    result = run("develop-install", str(project), "-p", str(shared_prefix), "-c", str(tmp_path / "empty-channel"))
    assert result.returncode == 1
    assert (
        "  definitely-missing-build-helper >=1  <-  requested by the backend's get_requires_for_build_editable\n"
        in result.stderr
    )
    assert result.stderr.rstrip().endswith("or drop the requirement (--map NAME=)")


def test_ctrl_c_is_one_line_and_leaves_the_environment_as_it_was(shared_prefix: Path, tmp_path: Path) -> None:
    project = bad_backend_project(tmp_path, "pause")
    before = tree_digest(shared_prefix)
    code, err = interrupted_mid_build(project, "develop-install", str(project), "-p", str(shared_prefix))
    assert code == 130
    assert err.splitlines()[-1] == (
        "conda-source: interrupted; everything the run had changed was put back, so the environment is as it was "
        "before it"
    )
    assert "Traceback" not in err
    assert tree_digest(shared_prefix) == before
    assert backend_stopped(project)  # the backend does not go on building for a run that is over


def test_ctrl_c_in_build_local_is_one_line_and_says_what_stays(shared_prefix: Path, tmp_path: Path) -> None:
    project = bad_backend_project(tmp_path, "pause")
    out = tmp_path / "out"
    code, err = interrupted_mid_build(
        project, "build-local", str(project), "-p", str(shared_prefix), "--output-dir", str(out)
    )
    assert code == 130
    assert err.splitlines()[-1] == (
        "conda-source: interrupted; nothing of the package being built was written (packages finished before it, "
        "and build requirements already installed into the environment, stay)"
    )
    assert "Traceback" not in err and not out.exists()  # a failed run leaves no output behind
    assert backend_stopped(project)


def interrupted_mid_build(project: Path, *args: str) -> tuple[int, str]:
    """Run the standalone command until the paused backend is building, then Ctrl-C it: (exit code, stderr)."""
    import signal
    import time

    command = [sys.executable, "-m", "conda_source", *args, "--no-user-mapping"]
    child = subprocess.Popen(command, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not (project / "PAUSED").exists():
        assert time.monotonic() < deadline and child.poll() is None, "the build never started"
        time.sleep(0.05)
    child.send_signal(signal.SIGINT)
    _, err = child.communicate(timeout=60)
    return child.returncode, err


def backend_stopped(project: Path, timeout: float = 10) -> bool:
    """The paused backend's process (its pid in PAUSED) has ended (gone, or a zombie nobody reaped yet)."""
    import time

    pid = int((project / "PAUSED").read_text())
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        stat = Path(f"/proc/{pid}/stat")
        try:
            if stat.read_text().rsplit(")", 1)[1].split()[0] == "Z":
                return True
        except (FileNotFoundError, ProcessLookupError):
            return True
        time.sleep(0.05)
    (project / "PAUSED").unlink()  # let it finish rather than linger after the test
    return False
