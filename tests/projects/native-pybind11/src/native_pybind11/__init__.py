from native_pybind11._answer import answer, greeting

__all__ = ["answer", "greeting"]
