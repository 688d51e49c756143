import os
import sys

from setuptools import Extension, setup

# answer.h comes from the host package libanswer, installed into this environment's include/.
setup(
    ext_modules=[
        Extension(
            "external_deps._answer",
            sources=["src/external_deps/_answer.c"],
            include_dirs=[os.path.join(sys.prefix, "include")],
        )
    ]
)
