"""A stand-in for conda-forge's compiler packages, for tests of native builds.

conda-forge's ``gcc``/``gxx`` packages put ``<triplet>-cc`` and friends in
``bin/`` and an ``etc/conda/activate.d`` script that points ``CC``, ``CXX``,
``CFLAGS`` and ``LDFLAGS`` at them (keeping the previous values in
``CONDA_BACKUP_*``, which the ``deactivate.d`` script restores).  This package
does the same with wrappers that record every call, then run the machine's
``gcc``/``g++``, so a test proves from outside that a build used the
environment's compiler and its flags.

``compiler_files()`` is the package payload (relative path -> text, mode), to be
written into a prefix by ``install_compiler`` or packed into a conda package.
"""

from __future__ import annotations

from pathlib import Path

CC = "conda-test-cc"
CXX = "conda-test-c++"
CALL_LOG = "share/conda-test-compiler/calls.log"
MARKER_FLAG = "-DCONDA_TEST_COMPILER=1"  # in CFLAGS/CXXFLAGS, so a call proves the flags arrived too

_WRAPPER = """#!/bin/sh
# Records the call, then runs the machine's compiler.
log="$(dirname "$0")/../{log}"
mkdir -p "$(dirname "$log")"
printf '%s\\n' "$(basename "$0") $*" >> "$log"
exec {real} "$@"
"""

_VARIABLES = {
    "CC": f"$CONDA_PREFIX/bin/{CC}",
    "CXX": f"$CONDA_PREFIX/bin/{CXX}",
    "CFLAGS": f"{MARKER_FLAG} -isystem $CONDA_PREFIX/include",
    "CXXFLAGS": f"{MARKER_FLAG} -isystem $CONDA_PREFIX/include",
    "LDFLAGS": "-Wl,-rpath,$CONDA_PREFIX/lib -L$CONDA_PREFIX/lib",
}
_ACTIVATE = "# Set by the test compiler package, the way conda-forge's compiler activation does.\n" + "".join(
    f'if [ -n "${{{var}+x}}" ]; then export CONDA_BACKUP_{var}="${var}"; fi\nexport {var}="{value}"\n'
    for var, value in _VARIABLES.items()
)
_DEACTIVATE = "# Restores what the test compiler's activation replaced.\n" + "".join(
    f'if [ -n "${{CONDA_BACKUP_{var}+x}}" ]; then export {var}="$CONDA_BACKUP_{var}"; unset CONDA_BACKUP_{var};'
    f" else unset {var}; fi\n"
    for var in _VARIABLES
)


def compiler_files() -> dict[str, tuple[str, int]]:
    """The payload of the test compiler package: relative path -> (text, file mode)."""
    return {
        f"bin/{CC}": (_WRAPPER.format(log=CALL_LOG, real="gcc"), 0o755),
        f"bin/{CXX}": (_WRAPPER.format(log=CALL_LOG, real="g++"), 0o755),
        "etc/conda/activate.d/activate-conda-test-compiler.sh": (_ACTIVATE, 0o644),
        "etc/conda/deactivate.d/deactivate-conda-test-compiler.sh": (_DEACTIVATE, 0o644),
    }


def install_compiler(prefix: Path) -> Path:
    """Write the test compiler package's files into ``prefix``; returns the file its wrappers log calls to."""
    for relative, (text, mode) in compiler_files().items():
        path = prefix / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        path.chmod(mode)
    return prefix / CALL_LOG


def compiler_calls(prefix: Path) -> list[str]:
    """Each recorded call: the wrapper's name and its arguments."""
    log = prefix / CALL_LOG
    return log.read_text().splitlines() if log.is_file() else []
