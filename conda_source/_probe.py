"""Run by the *target* interpreter (``python -I -c``): stdlib only, prints one JSON object.

Reports what conda-source must know about a prefix's python: its version,
implementation, install scheme and PEP 508 marker environment.
"""

import json
import os
import platform
import sys
import sysconfig


def main() -> None:
    impl = sys.implementation
    info = impl.version
    impl_version = f"{info.major}.{info.minor}.{info.micro}"
    if info.releaselevel != "final":
        impl_version += info.releaselevel[0] + str(info.serial)
    markers = {
        "implementation_name": impl.name,
        "implementation_version": impl_version,
        "os_name": os.name,
        "platform_machine": platform.machine(),
        "platform_release": platform.release(),
        "platform_system": platform.system(),
        "platform_version": platform.version(),
        "python_full_version": platform.python_version(),
        "platform_python_implementation": platform.python_implementation(),
        "python_version": ".".join(platform.python_version_tuple()[:2]),
        "sys_platform": sys.platform,
    }
    scheme = sysconfig.get_paths()
    json.dump(
        {
            "executable": sys.executable,
            "prefix": sys.prefix,
            "version": list(sys.version_info[:3]),
            "markers": markers,
            "paths": {k: scheme[k] for k in ("purelib", "platlib", "scripts", "data", "include")},
            "soabi": sysconfig.get_config_var("SOABI") or "",
        },
        sys.stdout,
    )


main()
