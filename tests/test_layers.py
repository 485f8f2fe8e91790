"""The layers are a contract: import-linter checks .importlinter against tinyface as it installs.

The repository keeps TFX's top-level folders (components/, pipeline/, trainer/, kubeflow/) and the
CLI (cli/), which setup.py installs under the tinyface namespace; import-linter reads a package
from one folder, so the test lays the package out as pip installs it (setuptools' build_py, from
setup.py's package_dir) and lints that.
"""

import os
import shutil
import subprocess
import sys

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CONTRACTS = os.path.join(REPO, ".importlinter")
LINT_IMPORTS = os.path.join(os.path.dirname(sys.executable), "lint-imports")


def lint_imports(layout):
    return subprocess.run([LINT_IMPORTS, "--config", CONTRACTS, "--no-cache"], cwd=layout,
                          env={**os.environ, "PYTHONPATH": str(layout)}, capture_output=True, text=True)


def test_the_installed_package_is_one_namespace(installed_layout):
    assert sorted(os.listdir(installed_layout)) == ["tinyface"]
    for folder in ("cli", "components", "kubeflow", "pipeline", "trainer"):
        assert os.path.isfile(installed_layout / "tinyface" / folder / "__init__.py")


def test_every_import_points_down_and_no_two_folders_import_each_other(installed_layout):
    result = lint_imports(installed_layout)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.parametrize("module, upward_import, contract", [
    ("data/files.py", "import tinyface.cli.main", "Layers point one way"),
    ("trainer/models/layers.py", "from tinyface.trainer.training import loop", "Trainer:"),
    ("data/ingestion/crop.py", "from tinyface.data.degradation import degrade", "Data:"),
])
def test_an_upward_import_breaks_the_contract(installed_layout, tmp_path, module, upward_import, contract):
    layout = tmp_path / "layout"
    shutil.copytree(installed_layout, layout)
    with open(layout / "tinyface" / module, "a") as f:
        f.write(f"\n{upward_import}  # noqa\n")
    result = lint_imports(layout)
    assert result.returncode != 0
    broken = result.stdout[result.stdout.index("Broken contracts"):] if "Broken contracts" in result.stdout else ""
    assert contract in broken, result.stdout
