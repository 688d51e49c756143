from native_cmake._answer import answer

__all__ = ["answer"]
