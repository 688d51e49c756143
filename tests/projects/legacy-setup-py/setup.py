from setuptools import setup

setup(
    name="legacy-setup-py",
    version="0.9.0",
    packages=["legacy_setup_py"],
    install_requires=["six"],
)
