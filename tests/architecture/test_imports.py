"""The layout's rules, read from the code's imports with `ast`: who may import whom, no cycles, small modules.

Edges count every import statement wherever it is (module level, `if TYPE_CHECKING:`, inside a function),
resolved to the module that really provides the name: a stage package's public names are loaded lazily from
the submodule its `lazy_loader.attach` map names, so `from curation.retrieval import search` is an edge to
`curation.retrieval.search` (and to the package `curation.retrieval`, whose map points at its submodules).
Each rule is also run on a small planted tree, to show it catches what it claims to.
"""

from __future__ import annotations

import ast
import types
from collections.abc import Iterator
from functools import cached_property
from importlib import import_module
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
OURS = ("curation", "embeddings", "store", "pages")
LAYERS = {"store": {"curation", "embeddings", "pages"}, "embeddings": {"curation", "pages"}, "curation": {"pages"}}
MAX_LINES = 400


class Code:
    """The import graph of one source tree (the repository, or a planted one in a test)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    @cached_property
    def modules(self) -> dict[str, Path]:
        files = [p for top in OURS if (self.root / top).is_dir() for p in (self.root / top).rglob("*.py")]
        files += [self.root / "app.py"] if (self.root / "app.py").exists() else []
        return {_module_name(self.root, p): p for p in files}

    def is_package(self, name: str) -> bool:
        path = self.modules.get(name)
        return path is not None and path.name == "__init__.py"

    def lazy_map(self, package: str) -> dict[str, str]:
        """{public name: submodule} of a package whose `__init__` calls `lazy_loader.attach(submod_attrs=...)`."""
        if not self.is_package(package):
            return {}
        for node in ast.walk(ast.parse(self.modules[package].read_text())):
            if isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "attach":
                for keyword in node.keywords:
                    if keyword.arg == "submod_attrs":
                        mapping = ast.literal_eval(keyword.value)
                        return {name: f"{package}.{sub}" for sub, names in mapping.items() for name in names}
        return {}

    def imports(self, name: str) -> Iterator[tuple[str, int]]:
        """(imported module, line) for every import of our code in `name`, resolved to the module providing it."""
        for node in ast.walk(ast.parse(self.modules[name].read_text())):
            if isinstance(node, ast.Import):
                yield from ((a.name, node.lineno) for a in node.names if a.name.split(".")[0] in OURS)
            elif isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] in OURS:
                yield node.module, node.lineno
                for alias in node.names:
                    target = f"{node.module}.{alias.name}"
                    if target in self.modules:
                        yield target, node.lineno
                    elif alias.name in self.lazy_map(node.module):
                        yield self.lazy_map(node.module)[alias.name], node.lineno
        yield from ((sub, 0) for sub in sorted(set(self.lazy_map(name).values())))

    def from_imports(self, name: str) -> Iterator[tuple[str, int]]:
        """(module, line) of each `from MODULE import ...` statement, as written."""
        for node in ast.walk(ast.parse(self.modules[name].read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                yield node.module, node.lineno

    def pages_reaching_storage(self) -> list[str]:
        """pages/, app.py and the CLI never import store; pages use each stage through its public names."""
        problems = []
        for name in self.modules:
            if not (name.split(".")[0] == "pages" or name == "app" or name.startswith("curation.cli")):
                continue
            for module, line in self.from_imports(name):
                if module.split(".")[0] == "store":
                    problems.append(f"{name}:{line} imports {module}")
                elif module.startswith("curation.") and module.count(".") > 1 and not name.startswith("curation."):
                    problems.append(f"{name}:{line} reaches into {module}")
        return problems

    def stages_reaching_inside(self) -> list[str]:
        """A stage imports another stage's package (its public names), never its modules; only the root
        settings read every stage's `settings` module."""
        problems = []
        for name in self.modules:
            stage = _stage(name)
            if stage is None or name.startswith("curation.cli"):
                continue
            for module, line in self.from_imports(name):
                other = _stage(module)
                if other is None or other == stage or module == other:
                    continue
                if not (name == "curation.core.settings" and module == f"{other}.settings"):
                    problems.append(f"{name}:{line} imports {module}")
        return problems

    def own_package_imports(self) -> list[str]:
        return [
            f"{name}:{line}"
            for name in self.modules
            if not self.is_package(name) and "." in name
            for module, line in self.from_imports(name)
            if module == name.rsplit(".", 1)[0]
        ]

    def layer_breaches(self) -> list[str]:
        """store <- embeddings <- curation <- pages; only app.py and pages/ import streamlit."""
        problems = []
        for name, path in self.modules.items():
            top = name.split(".")[0]
            for target, line in self.imports(name):
                if target.split(".")[0] in LAYERS.get(top, set()):
                    problems.append(f"{name}:{line} imports {target}")
            if top in LAYERS and "streamlit" in _third_party(path):
                problems.append(f"{name} imports streamlit")
        return problems

    def cycles(self) -> list[str]:
        graph = {name: {t for t, _ in self.imports(name) if t in self.modules} - {name} for name in self.modules}
        state: dict[str, int] = {}
        found: list[str] = []

        def visit(node: str, stack: list[str]) -> None:
            state[node] = 1
            for target in sorted(graph[node]):
                if state.get(target) == 1:
                    found.append(" -> ".join([*stack[stack.index(target) :], target]))
                elif target not in state:
                    visit(target, [*stack, target])
            state[node] = 2

        for node in sorted(graph):
            if node not in state:
                visit(node, [node])
        return found

    def long_modules(self) -> dict[str, int]:
        lengths = {name: len(path.read_text().splitlines()) for name, path in self.modules.items()}
        return {name: n for name, n in lengths.items() if n > MAX_LINES}


def _module_name(root: Path, path: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _stage(name: str) -> str | None:
    """`curation.<stage>` of a module of curation/ (None outside curation/ and for curation itself)."""
    parts = name.split(".")
    return ".".join(parts[:2]) if parts[0] == "curation" and len(parts) > 1 else None


def _third_party(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module.split(".")[0])
    return names


CODE = Code(REPO)


def test_pages_the_app_and_the_cli_never_reach_storage() -> None:
    assert not CODE.pages_reaching_storage()


def test_stages_use_each_other_through_their_public_names() -> None:
    assert not CODE.stages_reaching_inside()


def test_a_module_never_imports_its_own_package() -> None:
    assert not CODE.own_package_imports()


def test_layers_hold_and_only_the_app_imports_streamlit() -> None:
    assert not CODE.layer_breaches()


def test_no_import_cycles_type_checking_imports_included() -> None:
    assert not CODE.cycles()


def test_modules_stay_small() -> None:
    assert not CODE.long_modules()


@pytest.mark.parametrize("package", sorted({s for n in CODE.modules if (s := _stage(n))} - {"curation.cli"}))
def test_every_public_name_resolves(package: str) -> None:
    """Each name of a stage's lazy map exists in its submodule, and no submodule import shadows it."""
    mapping = CODE.lazy_map(package)
    assert mapping, f"{package} has no public names"
    module = import_module(package)
    for submodule in set(mapping.values()):
        import_module(submodule)  # as another module would, before the name is looked up
    for name in mapping:
        assert not isinstance(getattr(module, name), types.ModuleType), f"{package}.{name} is a module"


def test_the_rules_catch_a_planted_breach(tmp_path: Path) -> None:
    files = {
        "app.py": "import streamlit\n",
        "pages/__init__.py": "",
        "pages/bad.py": "from store import documents\nfrom curation.alpha import public\n",
        "store/__init__.py": "",
        "store/documents.py": "from curation.alpha import public\n",
        "curation/__init__.py": "",
        "curation/alpha/__init__.py": (
            "import lazy_loader\n__getattr__, __dir__, __all__ = lazy_loader.attach(\n"
            "    __name__, submod_attrs={'one': ['public']}\n)\n"
        ),
        "curation/alpha/one.py": (
            "from typing import TYPE_CHECKING\nfrom curation.beta.two import helper\n"
            "if TYPE_CHECKING:\n    from curation.alpha.three import Thing\n"
        ),
        "curation/alpha/three.py": (
            "import streamlit\nfrom curation.alpha.one import public\nfrom curation.alpha import x\n"
        ),
        "curation/beta/__init__.py": "",
        "curation/beta/two.py": "\n" * (MAX_LINES + 1),
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    planted = Code(tmp_path)
    assert planted.pages_reaching_storage() == ["pages.bad:1 imports store"]
    assert planted.stages_reaching_inside() == ["curation.alpha.one:2 imports curation.beta.two"]
    assert planted.own_package_imports() == ["curation.alpha.three:3"]
    assert "store.documents:1 imports curation.alpha" in planted.layer_breaches()
    assert "curation.alpha.three imports streamlit" in planted.layer_breaches()
    assert "curation.alpha.one -> curation.alpha.three -> curation.alpha.one" in planted.cycles()
    assert planted.long_modules() == {"curation.beta.two": MAX_LINES + 1}
