"""A PEP 517 backend (stdlib only) that reports the environment each hook runs in.

Every hook writes its ``os.environ`` to ``.probe/<hook>.json`` in the project
directory, so a test reads from outside what a real backend hook saw.
"""

import json
import os
import zipfile
from pathlib import Path

ROOT = Path.cwd()
DIST = "activation_probe-1.0"


def _report(hook):
    (ROOT / ".probe").mkdir(exist_ok=True)
    (ROOT / ".probe" / f"{hook}.json").write_text(json.dumps(dict(os.environ), indent=1, sort_keys=True))


def get_requires_for_build_wheel(config_settings=None):
    _report("get_requires_for_build_wheel")
    return []


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    _report("build_wheel")
    filename = f"{DIST}-py3-none-any.whl"
    with zipfile.ZipFile(Path(wheel_directory, filename), "w") as archive:
        archive.writestr(f"{DIST}.dist-info/METADATA", "Metadata-Version: 2.1\nName: activation-probe\nVersion: 1.0\n")
        archive.writestr(f"{DIST}.dist-info/WHEEL", "Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n")
        archive.writestr(f"{DIST}.dist-info/RECORD", "")
    return filename
