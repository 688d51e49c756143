"""A PEP 517/660 backend (stdlib only) that fails the way MODE (a file in the project) says.

Modes: raise, exit, segfault, missing-wheel, not-zip, bad-requires, missing-requires, bad-metadata,
no-metadata, no-pep660, pause (build waits for the file PAUSED to go away), stdin (get_requires reads a line
from standard input and keeps it in STDIN-READ), ok.
"""

import base64
import hashlib
import os
import signal
import sys
import time
import zipfile
from pathlib import Path

ROOT = Path.cwd()
MODE = (ROOT / "MODE").read_text().strip() if (ROOT / "MODE").exists() else "ok"
NAME, VERSION = "bad_backend_demo", "1.0"
INFO = f"{NAME}-{VERSION}.dist-info"


def _fail(hook):
    if MODE == "raise":
        raise RuntimeError(f"{hook} raised on purpose")
    if MODE == "exit":
        print("the compiler said no")
        sys.exit(3)
    if MODE == "segfault":
        print("about to crash", flush=True)
        os.kill(os.getpid(), signal.SIGSEGV)
    if MODE == "pause":
        (ROOT / "PAUSED").write_text(str(os.getpid()))
        while (ROOT / "PAUSED").exists():
            time.sleep(0.05)


def _metadata():
    requires = "Requires-Dist: not a valid requirement !!\n" if MODE == "bad-metadata" else ""
    return f"Metadata-Version: 2.1\nName: bad-backend-demo\nVersion: {VERSION}\n{requires}"


def get_requires_for_build_wheel(config_settings=None):
    if MODE == "stdin":
        (ROOT / "STDIN-READ").write_text(repr(sys.stdin.readline()))
    if MODE == "missing-requires":
        return ["definitely-missing-build-helper>=1"]
    return ["=not-a-requirement"] if MODE == "bad-requires" else []


get_requires_for_build_editable = get_requires_for_build_wheel


def prepare_metadata_for_build_wheel(directory, config_settings=None):
    info = Path(directory, INFO)
    info.mkdir(parents=True)
    if MODE != "no-metadata":
        (info / "METADATA").write_text(_metadata())
    return INFO


prepare_metadata_for_build_editable = prepare_metadata_for_build_wheel


def _wheel(directory, payload):
    files = {
        **payload,
        f"{INFO}/METADATA": _metadata(),
        f"{INFO}/WHEEL": "Wheel-Version: 1.0\nGenerator: bad_backend\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    rows = []
    for path, text in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=").decode()
        rows.append(f"{path},sha256={digest},{len(text.encode())}")
    files[f"{INFO}/RECORD"] = "\n".join([*rows, f"{INFO}/RECORD,,"]) + "\n"
    name = f"{NAME}-{VERSION}-py3-none-any.whl"
    if MODE == "missing-wheel":
        return "somebody-else-9.9-py3-none-any.whl"
    if MODE == "not-zip":
        Path(directory, name).write_text("this is not a zip file")
        return name
    with zipfile.ZipFile(Path(directory, name), "w") as archive:
        for path, text in files.items():
            archive.writestr(path, text)
    return name


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    _fail("build_wheel")
    source = (ROOT / "src" / NAME / "__init__.py").read_text()
    return _wheel(wheel_directory, {f"{NAME}/__init__.py": source})


if MODE != "no-pep660":

    def build_editable(wheel_directory, config_settings=None, metadata_directory=None):
        _fail("build_editable")
        return _wheel(wheel_directory, {f"{NAME}.pth": str(ROOT / "src") + "\n"})
