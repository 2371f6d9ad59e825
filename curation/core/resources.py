"""Files the installed package ships besides its code: the Streamlit app (`app.py`, `pages/`) and the demo corpus.

They live at the top of the repository and are installed as the `sde_workbench` package (see pyproject.toml),
so `sde-workbench app` and `sde-workbench demo` work from a wheel as well as from a source checkout.
"""

from __future__ import annotations

from importlib.util import find_spec
from pathlib import Path

_SOURCE_ROOT = Path(__file__).resolve().parents[2]


def _shipped(name: str) -> Path:
    """`name` in the source tree this module comes from, else inside the installed `sde_workbench` package.

    The source tree (a checkout: it has pyproject.toml) comes first, so a checkout run with PYTHONPATH serves
    its own app even where another checkout is installed in editable mode. The package has no `__init__` (it
    is the repository's top folder in an editable install), so its folders are looked up on the import path
    rather than through importlib.resources.
    """
    if (_SOURCE_ROOT / "pyproject.toml").exists() and (_SOURCE_ROOT / name).exists():
        return _SOURCE_ROOT / name
    spec = find_spec("sde_workbench")
    for folder in (spec.submodule_search_locations or []) if spec else []:
        if (Path(folder) / name).exists():
            return Path(folder) / name
    return _SOURCE_ROOT / name


def app_file() -> Path:
    """The Streamlit entry point (`app.py`), whose folder also holds `pages/`."""
    return _shipped("app.py")


def demo_dir() -> Path:
    """The demo corpus, queries and judgments that `make run` builds the demo workspace from."""
    return _shipped("demo")
