VALUE = "from the checkout"


def main() -> None:
    print(f"in-tree-editable says {VALUE}")
