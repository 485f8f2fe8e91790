"""argparse value types shared by several commands."""

import argparse


def positive_int(text):
    """An integer of at least 1, e.g. a batch size or a model version."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value
