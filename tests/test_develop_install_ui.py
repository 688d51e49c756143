"""develop-install as a user meets it (issue 14): the plan and the question, all or nothing, what the history
says, verbosity, --json, and no crash at exit.  Standalone (py-rattler); test_conda_issue14 checks conda's side."""

from __future__ import annotations

import json
import os
import pty
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from support import bad_backend_project, copy_project, local_project

from conda_source.testing import make_test_prefix

pytestmark = [pytest.mark.network, pytest.mark.slow]


def conda_source(*args: str, answer: str | None = None, **env: str) -> subprocess.CompletedProcess[str]:
    """The standalone command; with ``answer``, stdin is a terminal that has the answer typed in already."""
    command = [sys.executable, "-m", "conda_source", *args]
    environ = {**os.environ, **env}
    environ.pop("CONDA_PREFIX", None)
    if answer is None:
        return subprocess.run(command, capture_output=True, text=True, env=environ, stdin=subprocess.DEVNULL)
    controller, terminal = pty.openpty()
    try:
        os.write(controller, answer.encode())
        return subprocess.run(command, capture_output=True, text=True, env=environ, stdin=terminal)
    finally:
        os.close(terminal)
        os.close(controller)


def state(prefix: Path) -> tuple[list[str], list[str]]:
    """What an environment has: its records, and every file outside conda-meta."""
    records = sorted(p.name for p in (prefix / "conda-meta").glob("*.json"))
    files = sorted(str(p.relative_to(prefix)) for p in prefix.rglob("*") if "conda-meta" not in p.parts)
    return records, files


def uses_six(tmp_path: Path) -> Path:
    return local_project(tmp_path, "uses-six", ["six>=1.16"])


def test_no_on_a_terminal_changes_nothing_for_install_reinstall_and_uninstall(
    build_channel: str, prefix: Path, tmp_path: Path
) -> None:
    project = uses_six(tmp_path)
    before = state(prefix)
    args = ("develop-install", str(project), "-p", str(prefix), "-c", build_channel, "--no-user-mapping")
    declined = conda_source(*args, answer="n\n")
    assert declined.returncode == 0, declined.stderr
    assert declined.stdout.splitlines()[:4] == [
        "Projects:",
        f"  uses-six 0.4.0: install (editable) from {project}",
        "Dependencies: 1 package(s) to link",
        f"  + {declined.stdout.split('  + ')[1].split()[0]}",
    ]
    assert "  + six-1.16.0-" in declined.stdout
    assert declined.stdout.rstrip().endswith("Proceed ([y]/n)? Nothing was changed.")
    assert state(prefix) == before

    assert conda_source(*args, answer="y\n").returncode == 0
    (record,) = (prefix / "conda-meta").glob("uses-six-*.json")
    installed = state(prefix)
    (project / "pyproject.toml").write_text((project / "pyproject.toml").read_text() + "\n# changed\n")
    declined = conda_source(*args, answer="n\n")
    assert declined.returncode == 0, declined.stderr
    assert (
        f"  uses-six 0.4.0: reinstall (editable) from {project}, replacing local-develop::{record.stem}"
        in declined.stdout
    )
    assert "Dependencies: already installed" in declined.stdout
    assert state(prefix) == installed

    declined = conda_source(*args, "--uninstall", answer="no\n")
    assert declined.returncode == 0, declined.stderr
    assert f"  uses-six 0.4.0: uninstall the develop install of {project} (local-develop::{record.stem})" in (
        declined.stdout
    )
    assert state(prefix) == installed


def test_dry_run_shows_the_same_plan(build_channel: str, prefix: Path, tmp_path: Path) -> None:
    project = uses_six(tmp_path)
    before = state(prefix)
    args = ("develop-install", str(project), "-p", str(prefix), "-c", build_channel, "--no-user-mapping")
    dry = conda_source(*args, "--dry-run")
    assert dry.returncode == 0, dry.stderr
    asked = conda_source(*args, answer="n\n")
    plan = asked.stdout.split("Proceed")[0]
    assert plan in dry.stdout and dry.stdout.rstrip().endswith("Dry run: nothing was changed.")
    assert state(prefix) == before


def test_without_a_terminal_nothing_is_asked(build_channel: str, prefix: Path, tmp_path: Path) -> None:
    """Scripts and CI (README's set-up command): stdin is no terminal, so the change is made as with -y."""
    project = uses_six(tmp_path)
    result = conda_source("develop-install", str(project), "-p", str(prefix), "-c", build_channel, "--no-user-mapping")
    assert result.returncode == 0, result.stderr
    assert "Proceed" not in result.stdout and list((prefix / "conda-meta").glob("uses-six-*.json"))


def test_a_failed_build_leaves_the_environment_as_it_was(build_channel: str, prefix: Path, tmp_path: Path) -> None:
    """The dependencies were linked before the backend failed: they are unlinked again."""
    project = uses_six(tmp_path)
    backend = project / "_backend" / "minimal_backend.py"
    backend.write_text(backend.read_text() + "\n\ndef build_editable(*args, **kwargs):\n    raise SystemExit(3)\n")
    before = state(prefix)
    result = conda_source("develop-install", str(project), "-p", str(prefix), "-c", build_channel, "--no-user-mapping")
    assert result.returncode == 1
    assert result.stderr.splitlines()[-1] == (
        f"conda-source: error: {project}: build backend failed in build_editable: the backend exited with status 3; "
        "its output is above, fix what it reports and run again"
    )
    assert state(prefix) == before
    history = (prefix / "conda-meta" / "history").read_text()
    undone = history.split("==> ")[-1]
    assert "(undone)" in undone.splitlines()[1] and "\n-" in undone and "six-1.16.0-" in undone


def test_history_names_what_was_asked_for_and_what_was_required(
    build_channel: str, prefix: Path, tmp_path: Path
) -> None:
    project = copy_project("setuptools-basic", tmp_path)
    result = conda_source("develop-install", str(project), "-p", str(prefix), "-c", build_channel, "--no-user-mapping")
    assert result.returncode == 0, result.stderr
    blocks = (prefix / "conda-meta" / "history").read_text().split("==> ")
    requested = [line for block in blocks for line in block.splitlines() if line.startswith("# update specs:")]
    assert requested == ["# update specs: ['python']", "# update specs: ['setuptools-basic']"]
    project_block = next(
        block for block in blocks if "::setuptools-basic-1.0.0-" in block and "+local-develop/" in block
    )
    assert "# conda-source build requirements: ['setuptools >=61', 'wheel']" in project_block
    assert "# conda-source run requirements: ['packaging >=21', 'six']" in project_block
    assert "# cmd: conda-source develop-install " in project_block
    assert f"# conda-source source of setuptools-basic: {project}\n" in project_block  # for conda install --revision


def test_verbose_streams_the_backend_output_and_quiet_prints_only_the_result(
    build_channel: str, prefix: Path, tmp_path: Path
) -> None:
    project = copy_project("setuptools-basic", tmp_path)
    args = ("develop-install", str(project), "-p", str(prefix), "-c", build_channel, "--no-user-mapping")
    verbose = conda_source(*args, "-v")
    assert verbose.returncode == 0, verbose.stderr
    lines = verbose.stderr.splitlines()
    # Each hook is announced, then its output follows as the backend prints it.
    start = lines.index("setuptools-basic: build_editable ...")
    assert any("running editable_wheel" in line for line in lines[start:])
    assert "Solving the dependencies ..." in lines and "Installing the dependencies ..." in lines
    (project / "pyproject.toml").write_text((project / "pyproject.toml").read_text() + "\n# changed\n")
    quiet = conda_source(*args, "-q")
    assert quiet.returncode == 0 and quiet.stderr == ""
    assert quiet.stdout.splitlines()[0].startswith("Dependencies: already installed")


def test_json_carries_condas_keys(build_channel: str, prefix: Path, tmp_path: Path) -> None:
    project = uses_six(tmp_path)
    result = conda_source(
        "develop-install", str(project), "-p", str(prefix), "-c", build_channel, "--no-user-mapping", "--json"
    )
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["success"] is True and document["prefix"] == str(prefix)
    linked = {(d["channel"], d["name"]) for d in document["actions"]["LINK"]}
    assert ("local-develop", "uses-six") in linked and any(name == "six" for _, name in linked)
    assert document["actions"]["UNLINK"] == [] and document["changes"][0]["action"] == "install"


def test_a_named_environment_is_named_in_the_hint(tmp_path: Path) -> None:
    envs = tmp_path / "envs"
    (envs / "nopy" / "conda-meta").mkdir(parents=True)
    result = conda_source("develop-install", ".", "-n", "nopy", CONDA_ENVS_PATH=str(envs))
    assert result.returncode == 1
    assert result.stderr.splitlines()[-1] == (
        f"conda-source: error: {envs / 'nopy'}: this environment has no python; add one with "
        "'conda install -n nopy python'"
    )


def test_the_python_api_exits_cleanly_after_py_rattler_ran(build_channel: str, tmp_path: Path) -> None:
    """py-rattler's tokio threads finish with Python before the interpreter finalizes (see _rattler)."""
    code = (
        "import sys\n"
        "from conda_source import api\n"
        "from conda_source.testing import make_test_prefix\n"
        "prefix = make_test_prefix(sys.argv[1])\n"
        "api.build_local(sys.argv[2], output_dir=sys.argv[3], prefix=prefix, channels=[sys.argv[4]],"
        " user_mapping=False)\n"
    )
    project = copy_project("setuptools-basic", tmp_path)
    for run in range(3):
        prefix, out = tmp_path / f"env{run}", tmp_path / f"out{run}"
        result = subprocess.run(
            [sys.executable, "-c", code, str(prefix), str(project), str(out), build_channel],
            capture_output=True,
            text=True,
        )
        assert result.returncode == 0, result.stderr[-2000:]
        assert list(out.glob("*.conda"))


def test_the_standalone_command_finalizes_normally(lab_channel: Path, tmp_path: Path) -> None:
    """No os._exit: the interpreter finalizes (atexit handlers run) after py-rattler solved and installed."""
    prefix = make_test_prefix(tmp_path / "env")
    project = local_project(tmp_path, "uses-helper", ["helper-lib"])
    code = (
        "import atexit, sys\n"
        "atexit.register(lambda: print('finalized', file=sys.stderr))\n"
        "from conda_source.cli import entry\n"
        "sys.argv = ['conda-source', 'develop-install', *sys.argv[1:]]\n"
        "entry()\n"
    )
    arguments = [str(project), "-p", str(prefix), "-c", str(lab_channel), "--no-user-mapping", "-q"]
    result = subprocess.run([sys.executable, "-c", code, *arguments], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stderr == "finalized\n"
    assert [p.name.split("-1.0-")[0] for p in (prefix / "conda-meta").glob("helper-lib-*.json")] == ["helper-lib"]


def test_make_test_prefix_records_python_as_requested(tmp_path: Path) -> None:
    prefix = make_test_prefix(tmp_path / "env")
    history = (prefix / "conda-meta" / "history").read_text()
    assert "# update specs: ['python']" in history and "+file:///conda-source-testing::python-" in history


def test_protect_env_writes_pep_668s_file_only_when_asked(build_channel: str, prefix: Path, tmp_path: Path) -> None:
    import configparser

    project = uses_six(tmp_path)
    args = ("develop-install", str(project), "-p", str(prefix), "-c", build_channel, "--no-user-mapping")
    marker = prefix / "lib" / f"python{sys.version_info[0]}.{sys.version_info[1]}" / "EXTERNALLY-MANAGED"
    assert conda_source(*args).returncode == 0 and not marker.exists()  # not asked: never written
    (project / "pyproject.toml").write_text((project / "pyproject.toml").read_text() + "\n# changed\n")
    result = conda_source(*args, "--protect-env")
    assert result.returncode == 0, result.stderr
    assert f"protected from pip: wrote {marker}" in result.stdout
    parser = configparser.ConfigParser(interpolation=None)  # as pip reads it (PEP 668)
    parser.read(marker, encoding="utf-8")
    error = parser["externally-managed"]["Error"]
    assert "conda develop-install ." in error and "--break-system-packages" in error
    assert (prefix / "conda-meta" / "conda-source" / "protect-env").is_file()
    marker.write_text("[externally-managed]\nError=someone else's\n")
    (project / "pyproject.toml").write_text((project / "pyproject.toml").read_text() + "\n# again\n")
    assert conda_source(*args, "--protect-env").returncode == 0
    assert marker.read_text() == "[externally-managed]\nError=someone else's\n"  # kept as it is


def test_protect_env_on_a_re_run_with_nothing_to_do(build_channel: str, prefix: Path, tmp_path: Path) -> None:
    """Asking for protection is a change of its own: a re-run that installs nothing still writes the file."""
    project = uses_six(tmp_path)
    args = ("develop-install", str(project), "-p", str(prefix), "-c", build_channel, "--no-user-mapping")
    marker = prefix / "lib" / f"python{sys.version_info[0]}.{sys.version_info[1]}" / "EXTERNALLY-MANAGED"
    assert conda_source(*args).returncode == 0
    assert "unchanged, nothing to do" in conda_source(*args).stdout and not marker.exists()
    result = conda_source(*args, "--protect-env")
    assert result.returncode == 0, result.stderr
    assert "unchanged, nothing to do" in result.stdout
    assert f"protected from pip: wrote {marker}" in result.stdout and marker.is_file()


def test_uninstall_names_the_environment_in_its_remove_hint(build_channel: str, prefix: Path, tmp_path: Path) -> None:
    """What only the project needed is reported with a command that works as it is, for the environment as named."""
    project = uses_six(tmp_path)
    args = ("develop-install", str(project), "-p", str(prefix), "-c", build_channel, "--no-user-mapping")
    assert conda_source(*args).returncode == 0
    removed = conda_source(*args, "--uninstall")
    assert removed.returncode == 0, removed.stderr
    assert f"  remove them with: conda remove -p {prefix} six" in removed.stdout
    envs = tmp_path / "root" / "envs"
    named = make_test_prefix(envs / "dev")
    by_name = ("develop-install", str(project), "-n", "dev", "-c", build_channel, "--no-user-mapping")
    root = {"CONDA_ROOT_PREFIX": str(tmp_path / "root"), "CONDA_ENVS_PATH": str(envs)}
    assert conda_source(*by_name, **root).returncode == 0, conda_source(*by_name, **root).stderr
    removed = conda_source(*by_name, "--uninstall", **root)
    assert removed.returncode == 0, removed.stderr
    assert "  remove them with: conda remove -n dev six" in removed.stdout
    assert named.is_dir()


# An in-tree backend that builds needing packaging, and asks for six besides (get_requires_for_build_editable).
ASKS_FOR_SIX = """
from minimal_backend import *

def get_requires_for_build_editable(config_settings=None):
    return ["six"]
"""


def test_what_the_backend_asks_for_later_is_reported_as_linked(
    build_channel: str, prefix: Path, tmp_path: Path
) -> None:
    """Build requirements not installed yet: the backend is asked after the first transaction, and what it adds
    is linked then. The report (text and --json) lists every package the run linked, those included."""
    project = local_project(tmp_path, "asks-later", [])
    (project / "_backend" / "asking_backend.py").write_text(ASKS_FOR_SIX)
    pyproject = project / "pyproject.toml"
    text = pyproject.read_text().replace('build-backend = "minimal_backend"', 'build-backend = "asking_backend"')
    pyproject.write_text(text.replace("requires = []", 'requires = ["packaging"]'))
    assert 'requires = ["packaging"]' in pyproject.read_text()
    args = ("develop-install", str(project), "-p", str(prefix), "-c", build_channel, "--no-user-mapping", "--json")
    result = conda_source(*args)
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    linked = {entry["name"] for entry in document["actions"]["LINK"]}
    assert {"packaging", "six", "asks-later"} <= linked
    assert any(dist.startswith("six-") for dist in document["link"])
    history = (prefix / "conda-meta" / "history").read_text()
    assert "::six-" in history  # it was linked by a later transaction of the run, and is reported


def test_a_project_named_only_by_its_backend_is_named_in_the_json_changes(
    build_channel: str, prefix: Path, tmp_path: Path
) -> None:
    """No [project] table (a setup.py project): the plan cannot name it, the build can; the result does."""
    project = Path(shutil.copytree(Path(__file__).parent / "projects" / "legacy-setup-py", tmp_path / "legacy"))
    args = ("develop-install", str(project), "-p", str(prefix), "-c", build_channel, "--no-user-mapping", "--json")
    result = conda_source(*args)
    assert result.returncode == 0, result.stderr
    (change,) = json.loads(result.stdout)["changes"]
    (installed,) = json.loads(result.stdout)["projects"]
    assert change["name"] == installed["name"] == "legacy-setup-py"
    assert change["version"] == installed["version"] != ""


def test_a_closed_output_pipe_ends_quietly_after_the_work_is_whole(
    build_channel: str, prefix: Path, tmp_path: Path
) -> None:
    """``conda-source develop-install . | head -0``: the reader is gone before the summary; no traceback, the
    exit status a shell gives a command SIGPIPE ended, and the install is complete (the summary comes last)."""
    project = uses_six(tmp_path)
    for args in (
        ("plan", str(project), "-p", str(prefix), "--no-user-mapping"),
        ("develop-install", str(project), "-p", str(prefix), "-c", build_channel, "--no-user-mapping"),
    ):
        reader, writer = os.pipe()
        os.close(reader)
        try:
            command = [sys.executable, "-m", "conda_source", *args]
            completed = subprocess.run(
                command, stdout=writer, stderr=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL
            )
        finally:
            os.close(writer)
        assert (completed.returncode, completed.stderr) == (141, ""), args[0]
    ran = subprocess.run(
        [prefix / "bin" / "python", "-c", "import uses_six, six; print(uses_six.__name__)"],
        capture_output=True,
        text=True,
    )
    assert ran.stdout == "uses_six\n", ran.stderr
    assert list((prefix / "conda-meta").glob("uses-six-*.json"))


def test_a_question_that_cannot_be_shown_changes_nothing(build_channel: str, prefix: Path, tmp_path: Path) -> None:
    """On a terminal with standard output closed the plan and the question cannot be shown: the run stops before
    any change and says so on stderr, in one line."""
    project = uses_six(tmp_path)
    before = state(prefix)
    reader, writer = os.pipe()
    os.close(reader)
    controller, terminal = pty.openpty()
    try:
        os.write(controller, b"y\n")
        command = [sys.executable, "-m", "conda_source", "develop-install", str(project), "-p", str(prefix)]
        completed = subprocess.run(
            [*command, "-c", build_channel, "--no-user-mapping"],
            stdout=writer,
            stderr=subprocess.PIPE,
            text=True,
            stdin=terminal,
        )
    finally:
        for fd in (writer, terminal, controller):
            os.close(fd)
    assert completed.returncode == 141
    assert completed.stderr.splitlines() == [
        "conda-source: standard output was closed before the run ended; everything the run had changed was put "
        "back, so the environment is as it was before it"
    ]
    assert state(prefix) == before


def test_closed_output_and_error_pipes_are_no_traceback(build_channel: str, prefix: Path, tmp_path: Path) -> None:
    """``2>&1 | head -0``: the question cannot be shown, nor the line saying the run stopped; the run still stops
    before any change, with the status of a closed pipe.  A --json error whose reader went away is no traceback."""
    project = uses_six(tmp_path)
    before = state(prefix)
    pipes = [os.pipe() for _ in range(2)]
    controller, terminal = pty.openpty()
    try:
        for reader, _ in pipes:
            os.close(reader)
        os.write(controller, b"y\n")
        command = [sys.executable, "-m", "conda_source", "develop-install", str(project), "-p", str(prefix)]
        completed = subprocess.run(
            [*command, "-c", build_channel, "--no-user-mapping"], stdout=pipes[0][1], stderr=pipes[1][1], stdin=terminal
        )
        missing = tmp_path / "missing"
        failed = subprocess.run(
            [sys.executable, "-m", "conda_source", "build-local", str(missing), "--json"],
            stdout=pipes[0][1],
            stderr=subprocess.PIPE,
            text=True,
            stdin=subprocess.DEVNULL,
        )
    finally:
        for fd in (pipes[0][1], pipes[1][1], terminal, controller):
            os.close(fd)
    assert completed.returncode == 141
    assert state(prefix) == before
    assert (failed.returncode, failed.stderr) == (1, "")


def test_the_backend_cannot_read_the_answer_meant_for_the_question(prefix: Path, tmp_path: Path) -> None:
    """The backend's process starts before the question is asked (early_start.py): it gets no standard input,
    so a backend that reads it finds nothing, and the user's 'y' reaches the question."""
    project = bad_backend_project(tmp_path, "stdin")
    controller, terminal = pty.openpty()
    try:
        os.write(controller, b"y\n")
        command = [sys.executable, "-m", "conda_source", "develop-install", str(project), "-p", str(prefix)]
        # Before the fix the backend took the 'y' and the question then waited for the terminal forever.
        completed = subprocess.run(
            [*command, "--no-user-mapping"], capture_output=True, text=True, stdin=terminal, timeout=120
        )
    finally:
        os.close(terminal)
        os.close(controller)
    assert completed.returncode == 0, completed.stderr
    assert (project / "STDIN-READ").read_text() == "''"
    assert "Proceed ([y]/n)?" in completed.stdout and list((prefix / "conda-meta").glob("bad-backend-demo-*.json"))
