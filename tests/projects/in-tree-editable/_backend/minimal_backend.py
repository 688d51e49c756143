"""A tiny PEP 517/660 backend (stdlib only) for tests: src/ layout, version from pyproject.

IN_TREE_BACKEND_PAUSE=FILE makes build_editable create FILE and wait, so a test can
interrupt a build in progress.
"""

import base64
import hashlib
import os
import time
import tomllib
import zipfile
from pathlib import Path

ROOT = Path.cwd()


def _project():
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return data["name"], data["version"], data.get("scripts", {})


def _requires():
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"].get("dependencies", [])


def _dist(name):
    return name.replace("-", "_")


def _metadata_files():
    name, version, scripts = _project()
    info = f"{_dist(name)}-{version}.dist-info"
    files = {
        f"{info}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
        + "".join(f"Requires-Dist: {r}\n" for r in _requires()),
        f"{info}/WHEEL": "Wheel-Version: 1.0\nGenerator: minimal_backend\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    if scripts:
        lines = "".join(f"{k} = {v}\n" for k, v in scripts.items())
        files[f"{info}/entry_points.txt"] = "[console_scripts]\n" + lines
    return info, files


def _wheel(directory, payload):
    name, version, _ = _project()
    info, files = _metadata_files()
    files.update(payload)
    rows = []
    for path, text in files.items():
        data = text.encode() if isinstance(text, str) else text
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).decode().rstrip("=")
        rows.append(f"{path},sha256={digest},{len(data)}")
    rows.append(f"{info}/RECORD,,")
    filename = f"{_dist(name)}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(Path(directory, filename), "w") as archive:
        for path, text in files.items():
            archive.writestr(path, text)
        archive.writestr(f"{info}/RECORD", "\n".join(rows) + "\n")
    return filename


def get_requires_for_build_wheel(config_settings=None):
    return []


def get_requires_for_build_editable(config_settings=None):
    return []


def prepare_metadata_for_build_wheel(metadata_directory, config_settings=None):
    info, files = _metadata_files()
    for path, text in files.items():
        target = Path(metadata_directory, path)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
    return info


prepare_metadata_for_build_editable = prepare_metadata_for_build_wheel


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    src = ROOT / "src"
    payload = {p.relative_to(src).as_posix(): p.read_bytes() for p in src.rglob("*.py")}
    return _wheel(wheel_directory, payload)


def build_editable(wheel_directory, config_settings=None, metadata_directory=None):
    pause = os.environ.get("IN_TREE_BACKEND_PAUSE")
    if pause:
        Path(pause).write_text("building")
        time.sleep(60)
    name, _, _ = _project()
    return _wheel(wheel_directory, {f"__editable__.{_dist(name)}.pth": f"{ROOT / 'src'}\n"})
