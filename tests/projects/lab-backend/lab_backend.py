"""A PEP 517/660 backend (stdlib only) for the ownership tests: like in-tree-editable's, plus any
wheel member a test asks for in ``[tool.lab] members`` (a ``.data/`` target, ``licenses/``, ...; a value
``base64:DATA`` is that member's bytes)."""

import base64
import hashlib
import tomllib
import zipfile
from pathlib import Path

ROOT = Path.cwd()


def _pyproject():
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def _dist(name):
    return name.replace("-", "_")


def _metadata_files():
    project = _pyproject()["project"]
    name, version = project["name"], project["version"]
    info = f"{_dist(name)}-{version}.dist-info"
    files = {
        f"{info}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
        + "".join(f"Requires-Dist: {r}\n" for r in project.get("dependencies", [])),
        f"{info}/WHEEL": "Wheel-Version: 1.0\nGenerator: lab_backend\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    scripts = project.get("scripts", {})
    if scripts:
        files[f"{info}/entry_points.txt"] = "[console_scripts]\n" + "".join(f"{k} = {v}\n" for k, v in scripts.items())
    return info, files


def _wheel(directory, payload):
    project = _pyproject()["project"]
    info, files = _metadata_files()
    files.update(payload)
    files.update(_pyproject().get("tool", {}).get("lab", {}).get("members", {}))
    rows = []
    files = {path: base64.b64decode(text[7:]) if text.startswith("base64:") else text for path, text in files.items()}
    for path, text in files.items():
        data = text if isinstance(text, bytes) else text.encode()
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).decode().rstrip("=")
        rows.append(f"{path},sha256={digest},{len(data)}")
    rows.append(f"{info}/RECORD,,")
    filename = f"{_dist(project['name'])}-{project['version']}-py3-none-any.whl"
    with zipfile.ZipFile(Path(directory, filename), "w") as archive:
        for path, text in files.items():
            archive.writestr(path, text)
        archive.writestr(f"{info}/RECORD", "\n".join(rows) + "\n")
    return filename


def get_requires_for_build_wheel(config_settings=None):
    return []


get_requires_for_build_editable = get_requires_for_build_wheel


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
    return _wheel(wheel_directory, {p.relative_to(src).as_posix(): p.read_text() for p in src.rglob("*.py")})


def build_editable(wheel_directory, config_settings=None, metadata_directory=None):
    name = _pyproject()["project"]["name"]
    return _wheel(wheel_directory, {f"__editable__.{_dist(name)}.pth": f"{ROOT / 'src'}\n"})
