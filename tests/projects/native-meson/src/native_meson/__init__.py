from native_meson._answer import answer

__all__ = ["answer"]
