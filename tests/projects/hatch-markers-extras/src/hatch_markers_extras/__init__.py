def main() -> None:
    print("hatch-markers-extras")
