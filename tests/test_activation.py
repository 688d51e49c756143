"""Activation end to end: real prefixes, real activation scripts run by a real shell, real backend hooks."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from compilers import CC, MARKER_FLAG, compiler_calls, install_compiler

from conda_source.backend.activation import ActivationError, activate, default_env
from conda_source.backend.sequence import Backend
from conda_source.project import load_project
from conda_source.target import python_in

PROJECTS = Path(__file__).parent / "projects"
SYSTEM_PATH = "/usr/local/bin:/usr/bin:/bin"
BASE = {"PATH": SYSTEM_PATH, "HOME": "/home/someone", "LANG": "C.UTF-8"}
SHELL = shutil.which("bash", path=SYSTEM_PATH) or shutil.which("sh", path=SYSTEM_PATH)


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def activate_d(prefix: Path, name: str, text: str) -> Path:
    return write(prefix / "etc" / "conda" / "activate.d" / name, text)


def set_state(prefix: Path, env_vars: object) -> Path:
    return write(prefix / "conda-meta" / "state", json.dumps({"env_vars": env_vars}))


def test_environment_of_an_activated_prefix(prefix: Path) -> None:
    second = activate_d(
        prefix,
        "50-cc.sh",
        'export CC=cc-from-env\nexport CFLAGS="-O2 -I$CONDA_PREFIX/include"\n'
        'export SEEN="$STATE_VAR|$PACKAGE_VAR|$PREFIX"\nexport ORDER="$ORDER,second"\n',
    )
    first = activate_d(prefix, "10-first.sh", 'export ORDER=first\necho "hello from the first script"\n')
    activate_d(prefix, "README.txt", "not a script: only *.sh runs\n")
    set_state(prefix, {"STATE_VAR": "from-state", "SHARED": "the state wins"})
    write(prefix / "etc/conda/env_vars.d/pkg.json", json.dumps({"PACKAGE_VAR": "from-package", "SHARED": "package"}))

    activation = activate(prefix, BASE)

    p = str(prefix)
    assert activation.environ == {
        "HOME": "/home/someone",
        "LANG": "C.UTF-8",
        "PATH": f"{p}/bin:{SYSTEM_PATH}",
        "CONDA_PREFIX": p,
        "CONDA_SHLVL": "1",
        "CONDA_DEFAULT_ENV": p,
        "CONDA_PROMPT_MODIFIER": f"({p}) ",
        "STATE_VAR": "from-state",
        "PACKAGE_VAR": "from-package",
        "SHARED": "the state wins",
        "PREFIX": p,
        "PKG_CONFIG_PATH": f"{p}/lib/pkgconfig:{p}/share/pkgconfig",
        "CMAKE_PREFIX_PATH": p,
        "PYTHONNOUSERSITE": "1",
        "CC": "cc-from-env",
        "CFLAGS": f"-O2 -I{p}/include",
        "SEEN": f"from-state|from-package|{p}",
        "ORDER": "first,second",
    }
    assert activation.scripts == (first, second)
    assert activation.output == "hello from the first script\n"
    assert activation.notes == ()


def test_a_prefix_without_activation_files_runs_no_shell(prefix: Path) -> None:
    activation = activate(prefix, {"PATH": "/nonexistent"})  # no shell could be found on this PATH
    assert (activation.scripts, activation.environ["PATH"]) == ((), f"{prefix}/bin:/nonexistent")


@pytest.mark.parametrize(
    ("prefix", "base", "expected"),
    [
        pytest.param("/opt/conda/envs/work", {}, "work", id="named-env"),
        pytest.param("/opt/conda", {"CONDA_EXE": "/opt/conda/bin/conda"}, "base", id="conda-root"),
        pytest.param("/opt/mamba", {"MAMBA_ROOT_PREFIX": "/opt/mamba"}, "base", id="micromamba-root"),
        pytest.param("/opt/conda/envs/work", {"CONDA_EXE": "/opt/conda/bin/conda"}, "work", id="named-under-root"),
        pytest.param("/srv/project/.pixi/envs/default", {}, "default", id="pixi-env"),
        pytest.param("/srv/project/env", {}, "/srv/project/env", id="path-env"),
    ],
)
def test_default_env_follows_conda(prefix: str, base: dict[str, str], expected: str) -> None:
    assert default_env(Path(prefix), base) == expected


def test_what_leaks_from_our_own_interpreter_is_dropped(prefix: Path) -> None:
    base = {
        "PATH": f"/work/.venv/bin:/opt/other/bin:/usr/bin:{prefix}/bin:/opt/stacked/bin",
        "PYTHONPATH": "/work/src",
        "PYTHONHOME": "/work/.venv",
        "VIRTUAL_ENV": "/work/.venv",
        "VIRTUAL_ENV_PROMPT": "(.venv) ",
        "__PYVENV_LAUNCHER__": "/work/.venv/bin/python",
        "CONDA_PREFIX": "/opt/other",
        "CONDA_PREFIX_1": "/opt/stacked",
        "CONDA_SHLVL": "2",
        "PKG_CONFIG_PATH": "/opt/lib/pkgconfig",
        "CMAKE_PREFIX_PATH": "/opt/cmake",
    }
    env = activate(prefix, base).environ
    p = str(prefix)
    assert env == {
        "PATH": f"{p}/bin:/usr/bin",
        "CONDA_PREFIX": p,
        "CONDA_PREFIX_1": "/opt/stacked",
        "CONDA_PREFIX_2": "/opt/other",  # as conda activate (not --stack) records the environment it replaced
        "CONDA_SHLVL": "3",
        "CONDA_DEFAULT_ENV": p,
        "CONDA_PROMPT_MODIFIER": f"({p}) ",
        "PREFIX": p,
        "PKG_CONFIG_PATH": f"{p}/lib/pkgconfig:{p}/share/pkgconfig:/opt/lib/pkgconfig",
        "CMAKE_PREFIX_PATH": f"{p}:/opt/cmake",
        "PYTHONNOUSERSITE": "1",
    }


@pytest.mark.parametrize(
    ("active", "expected"),
    [
        pytest.param({}, {"CONDA_SHLVL": "1"}, id="nothing-active"),
        pytest.param(
            {"CONDA_PREFIX": "/opt/other", "CONDA_SHLVL": "1"},
            {"CONDA_SHLVL": "2", "CONDA_PREFIX_1": "/opt/other"},
            id="replaces-other",
        ),
        pytest.param({"CONDA_PREFIX": "{prefix}", "CONDA_SHLVL": "1"}, {"CONDA_SHLVL": "1"}, id="reactivates-itself"),
        pytest.param({"CONDA_PREFIX": "/opt/pixi-env"}, {"CONDA_SHLVL": "1"}, id="pixi-shell-without-level"),
    ],
)
def test_conda_shlvl(prefix: Path, active: dict[str, str], expected: dict[str, str]) -> None:
    base = {**BASE, **{k: v.format(prefix=prefix) for k, v in active.items()}}
    env = activate(prefix, base).environ
    levels = {k: v for k, v in env.items() if k.startswith("CONDA_SHLVL") or k.startswith("CONDA_PREFIX_")}
    assert levels == expected


def test_the_replaced_environment_is_deactivated_first(prefix: Path, tmp_path: Path) -> None:
    """The user's shell has another env with a compiler active: its deactivate script restores CC."""
    other = tmp_path / "other-env"
    install_compiler(other)
    shell = activate(other, {**BASE, "CC": "clang"}).environ  # as `conda activate other-env` leaves the shell
    assert (shell["CC"], shell["CONDA_BACKUP_CC"]) == (f"{other}/bin/{CC}", "clang")

    activation = activate(prefix, shell)

    assert activation.deactivate_scripts == (other / "etc/conda/deactivate.d/deactivate-conda-test-compiler.sh",)
    assert activation.scripts == ()
    assert activation.environ["CC"] == "clang"
    assert not {"CFLAGS", "CONDA_BACKUP_CC"} & set(activation.environ)
    assert activation.environ["PATH"] == f"{prefix}/bin:{SYSTEM_PATH}"


def test_reactivating_the_active_prefix_deactivates_it_first(compiler_prefix: Path) -> None:
    shell = activate(compiler_prefix, BASE).environ  # the user already activated the target
    activation = activate(compiler_prefix, shell)
    assert activation.environ == shell  # not a second CONDA_BACKUP_CC pointing at the wrapper itself
    assert activation.deactivate_scripts == (
        compiler_prefix / "etc/conda/deactivate.d/deactivate-conda-test-compiler.sh",
    )


def test_conda_env_config_vars_keep_conda_rules(prefix: Path) -> None:
    set_state(prefix, {"PATH": "/evil/bin", "GONE": "***unset***", "KEPT": "yes"})
    activation = activate(prefix, {**BASE, "GONE": "from the shell"})
    assert activation.environ["PATH"] == f"{prefix}/bin:{SYSTEM_PATH}"
    assert (activation.environ["GONE"], activation.environ["KEPT"]) == ("from the shell", "yes")
    assert activation.notes == ("PATH set by conda env config vars or env_vars.d is ignored, as conda ignores it",)


def test_scripts_run_once_until_an_activation_file_changes(prefix: Path) -> None:
    activate_d(prefix, "count.sh", 'echo ran >> "$CONDA_PREFIX/count"\n')
    first = activate(prefix, BASE)
    assert activate(prefix, BASE) is first
    assert (prefix / "count").read_text() == "ran\n"

    added = activate_d(prefix, "later.sh", "export LATER=1\n")  # a package installed between two hooks
    again = activate(prefix, BASE)
    assert (again.environ["LATER"], again.scripts[-1]) == ("1", added)
    assert (prefix / "count").read_text() == "ran\nran\n"


def test_a_failing_script_names_itself_and_its_output(prefix: Path) -> None:
    activate_d(prefix, "10-fine.sh", "echo fine\n")
    failing = activate_d(prefix, "20-sdk.sh", "echo 'looking for the SDK'\necho 'cannot find the SDK' >&2\nfalse\n")
    activate_d(prefix, "30-never.sh", 'touch "$CONDA_PREFIX/never"\n')
    with pytest.raises(ActivationError) as caught:
        activate(prefix, BASE)
    assert str(caught.value) == (
        f"{failing}: activation script failed (exit status 1, in {SHELL}): cannot find the SDK; "
        "fix the script or remove the package that installed it"
    )
    assert caught.value.output == "fine\nlooking for the SDK\ncannot find the SDK\n"
    assert not (prefix / "never").exists()


def test_a_script_that_exits_the_shell(prefix: Path) -> None:
    exiting = activate_d(prefix, "exits.sh", "exit 3\n")
    with pytest.raises(ActivationError) as caught:
        activate(prefix, BASE)
    assert str(caught.value) == (
        f"{exiting}: activation script failed (exit status 3, in {SHELL}): no output; "
        "fix the script or remove the package that installed it"
    )


def test_a_shell_that_cannot_start(prefix: Path) -> None:
    """The activated PATH is searched for the shell first: a broken ``bash`` in the prefix is reported."""
    script = activate_d(prefix, "any.sh", "export A=1\n")
    write(prefix / "bin" / "bash", "not a program\n").chmod(0o755)
    with pytest.raises(ActivationError) as caught:
        activate(prefix, BASE)
    assert str(caught.value) == (
        f"{script}: cannot start a shell to run it: [Errno 8] Exec format error: '{prefix}/bin/bash'"
    )


@pytest.mark.parametrize(
    ("relative", "content", "message"),
    [
        pytest.param(
            "conda-meta/state",
            "{not json",
            "cannot read environment variables: Expecting property name enclosed in double quotes: "
            "line 1 column 2 (char 1)",
            id="state-not-json",
        ),
        pytest.param(
            "conda-meta/state",
            json.dumps({"env_vars": {"N": 1}}),
            "'env_vars' must be a JSON object of variable names to strings; reset it with conda env config vars",
            id="state-not-strings",
        ),
        pytest.param(
            "etc/conda/env_vars.d/pkg.json",
            json.dumps(["A=1"]),
            "must be a JSON object of variable names to strings; reinstall the package that installed it",
            id="package-vars-not-an-object",
        ),
    ],
)
def test_broken_environment_variable_files(prefix: Path, relative: str, content: str, message: str) -> None:
    write(prefix / relative, content)
    with pytest.raises(ActivationError) as caught:
        activate(prefix, BASE)
    assert str(caught.value) == f"{prefix / relative}: {message}"


def probe_backend(prefix: Path, tmp_path: Path) -> tuple[Backend, Path]:
    project = Path(shutil.copytree(PROJECTS / "activation-probe", tmp_path / "activation-probe"))
    return Backend(load_project(project), python_in(prefix), prefix), project / ".probe"


def test_backend_hooks_run_in_the_activated_prefix(
    compiler_prefix: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    prefix = compiler_prefix
    count = activate_d(prefix, "count.sh", 'echo ran >> "$CONDA_PREFIX/count"\n').parent / "count.sh"
    set_state(prefix, {"MY_SETTING": "from conda env config vars"})
    monkeypatch.setenv("PYTHONPATH", str(tmp_path / "elsewhere"))
    monkeypatch.setenv("VIRTUAL_ENV", str(tmp_path / "venv"))
    monkeypatch.setenv("CONDA_PREFIX", str(tmp_path / "other-env"))
    monkeypatch.setenv("CONDA_SHLVL", "1")
    monkeypatch.setenv("PATH", f"{tmp_path / 'other-env' / 'bin'}:{SYSTEM_PATH}")
    backend, reports = probe_backend(prefix, tmp_path)

    assert backend.get_requires(editable=False) == []
    (tmp_path / "dist").mkdir()
    wheel = backend.build_wheel(tmp_path / "dist")

    assert wheel.name == "activation_probe-1.0-py3-none-any.whl"
    for hook in ("get_requires_for_build_wheel", "build_wheel"):
        seen = json.loads((reports / f"{hook}.json").read_text())
        assert seen["CC"] == f"{prefix}/bin/{CC}", hook
        assert seen["CFLAGS"] == f"{MARKER_FLAG} -isystem {prefix}/include", hook
        assert seen["MY_SETTING"] == "from conda env config vars", hook
        assert (seen["CONDA_PREFIX"], seen["PREFIX"], seen["CONDA_SHLVL"]) == (str(prefix), str(prefix), "2"), hook
        assert seen["PATH"] == f"{prefix}/bin:{SYSTEM_PATH}", hook
        assert not {"PYTHONPATH", "VIRTUAL_ENV"} & set(seen), hook
    assert (prefix / "count").read_text() == "ran\n"  # one shell run for both hooks
    assert backend.activation.scripts == (
        prefix / "etc/conda/activate.d/activate-conda-test-compiler.sh",
        count,
    )


def test_a_failing_activation_script_stops_the_first_hook(
    prefix: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", SYSTEM_PATH)
    failing = activate_d(prefix, "broken.sh", "echo 'broken activation' >&2\nreturn 2\n")
    backend, reports = probe_backend(prefix, tmp_path)
    with pytest.raises(ActivationError) as caught:
        backend.get_requires(editable=False)
    assert str(caught.value) == (
        f"{failing}: activation script failed (exit status 2, in {SHELL}): broken activation; "
        "fix the script or remove the package that installed it"
    )
    assert not reports.exists()


@pytest.mark.network
@pytest.mark.slow
def test_c_extension_is_built_by_the_environment_compiler(
    build_channel: str, compiler_prefix: Path, tmp_path: Path
) -> None:
    """issue 11's compiler package: the env's activation points CC at a wrapper; the build must go through it."""
    from test_develop_install import copy_project, install, run_python

    project = copy_project("setuptools-cext", tmp_path)
    install(compiler_prefix, build_channel, project, editable=False)

    assert run_python(compiler_prefix, "import setuptools_cext; print(setuptools_cext.add(40, 2))") == "42\n"
    calls = [call.split() for call in compiler_calls(compiler_prefix)]
    assert calls and all(call[0] == CC for call in calls), calls
    (compile,) = [call for call in calls if "-c" in call]
    assert "src/setuptools_cext/_speedup.c" in compile and MARKER_FLAG in compile  # CFLAGS came from activation
    (link,) = [call for call in calls if "-shared" in call]
    assert f"-Wl,-rpath,{compiler_prefix}/lib" in link  # and LDFLAGS


def test_develop_install_verbose_names_the_activation_scripts_that_ran(tmp_path: Path) -> None:
    import subprocess
    import sys

    from support import copy_project

    from conda_source.testing import make_test_prefix

    prefix = make_test_prefix(tmp_path / "env")
    script = prefix / "etc" / "conda" / "activate.d" / "demo-compiler.sh"
    script.parent.mkdir(parents=True)
    script.write_text("export DEMO_CC=demo-gcc\n")
    project = copy_project("in-tree-editable", tmp_path)
    command = [sys.executable, "-m", "conda_source", "develop-install", str(project), "-p", str(prefix)]
    quiet = subprocess.run([*command, "--no-user-mapping"], capture_output=True, text=True)
    assert quiet.returncode == 0, quiet.stderr
    assert "activated by" not in quiet.stderr
    (project / "pyproject.toml").write_text((project / "pyproject.toml").read_text().replace("0.4.0", "0.4.1"))
    verbose = subprocess.run([*command, "--no-user-mapping", "-v"], capture_output=True, text=True)
    assert verbose.returncode == 0, verbose.stderr
    assert f"conda-source: the build ran in the environment activated by {script}\n" in verbose.stderr
