__version__ = "1.0.0"


def main() -> None:
    print(f"setuptools-basic {__version__}")
