from native_setuptools._answer import answer, entropy

__all__ = ["answer", "entropy"]
