from external_deps._answer import answer

__all__ = ["answer"]
