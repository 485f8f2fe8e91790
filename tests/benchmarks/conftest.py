"""Benchmark scripts loaded by file: benchmarks/ is a folder of scripts, not a package."""

import importlib.util
import pathlib

import pytest

BENCHMARKS = pathlib.Path(__file__).resolve().parents[2] / "benchmarks"


def _load(script_name):
    spec = importlib.util.spec_from_file_location(script_name, BENCHMARKS / f"{script_name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def load_benchmark():
    """A function: benchmarks/<script_name>.py as a module (its main() does not run)."""
    return _load
