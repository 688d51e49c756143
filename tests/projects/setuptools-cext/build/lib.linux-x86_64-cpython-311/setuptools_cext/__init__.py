from setuptools_cext._speedup import add

__all__ = ["add"]
