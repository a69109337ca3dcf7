import argparse
from typing import Any


def register(subparsers: Any, common: argparse.ArgumentParser) -> None:
    """No sub-commands yet."""
