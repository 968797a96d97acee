"""The README's Python examples run as written."""

import contextlib
import re
from pathlib import Path

import pytest

from dlviz.testing import isolated_registry

README = Path(__file__).resolve().parents[1] / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.S)


def test_readme_starts_with_the_two_commands():
    lines = [line for line in README.read_text(encoding="utf-8").splitlines() if line.startswith("pip install")]
    assert lines[:2] == [
        'pip install -e ".[dev]" && streamlit run apps/main.py',
        'pip install -e ".[dev]" && pytest',
    ]


def test_readme_lists_every_builtin_plugin():
    import tomllib

    pyproject = tomllib.loads((README.parent / "pyproject.toml").read_text(encoding="utf-8"))
    builtin = set(pyproject["project"]["entry-points"]["dlviz.plugins"])
    section = README.read_text(encoding="utf-8").split("## Built-in plugins", 1)[1].split("\n## ", 1)[0]
    listed = set(re.findall(r"^\| [A-Z][a-z ]+ \| `([a-z_]+)` \|", section, flags=re.M))
    assert listed == builtin


@pytest.mark.slow
@pytest.mark.parametrize("block", BLOCKS, ids=[f"block{i}" for i in range(len(BLOCKS))])
def test_readme_python_blocks_run(block, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    registers = "@dlviz.register" in block
    with isolated_registry() if registers else contextlib.nullcontext():
        namespace: dict = {}
        exec(compile(block, str(README), "exec"), namespace)
        if registers:
            import keras

            import dlviz
            from dlviz.testing import check_plugin

            check_plugin(namespace["WeightNorms"], contexts=())
            model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
            (figure,) = dlviz.figures("weight_norms", model=model)
            assert len(figure.data[0].y) == 2
