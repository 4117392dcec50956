"""Import rules of the architecture, read from the source with ``ast`` (nothing is imported).

Rules: ``workbench/nn`` never imports RDKit or pandas; only ``workbench/app/``, ``pages/`` and the entry
point ``app.py`` import streamlit; ``workbench/predict`` and ``workbench/retrieval`` never import
``workbench.train``; the top-level parts of ``workbench`` (its subpackages and modules) import each
other without cycles. Every import counts: module-level, inside functions, under ``if TYPE_CHECKING``.

The checker takes any root folder, so the tests below also run it on small synthetic trees that break
each rule and assert that it reports them.
"""

from __future__ import annotations

import ast
import itertools
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "workbench"
STREAMLIT_ALLOWED = ("workbench/app/", "pages/", "app.py")
SKIPPED_DIRS = {"tests", "notebooks", "build", "dist", "__pycache__"}


@dataclass(frozen=True)
class Violation:
    """One broken rule: which rule, where, and what."""

    rule: str
    where: str
    detail: str

    def __str__(self) -> str:
        return f"[{self.rule}] {self.where}: {self.detail}"


@dataclass(frozen=True)
class Import:
    """One imported module name (``from a import b`` gives ``a`` and ``a.b``) and where it is written."""

    path: str  # relative to the root, with forward slashes
    line: int
    name: str


def module_name(root: Path, path: Path) -> str:
    """Dotted module name of a file under ``root`` (``pkg/__init__.py`` -> ``pkg``)."""
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def python_files(root: Path) -> Iterator[Path]:
    """Every ``.py`` file under ``root`` outside tests, notebooks, virtual environments and hidden folders."""
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in SKIPPED_DIRS)
        yield from (Path(folder) / f for f in sorted(files) if f.endswith(".py"))


def file_imports(root: Path, path: Path) -> list[Import]:
    """The modules a file imports, anywhere in it (relative imports resolved against its package)."""
    rel = path.relative_to(root).as_posix()
    module = module_name(root, path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            found += [Import(rel, node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base_parts = package.split(".") if package else []
                base_parts = base_parts[: len(base_parts) - (node.level - 1)] if node.level > 1 else base_parts
                base = ".".join(base_parts + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            if base:
                found.append(Import(rel, node.lineno, base))
            found += [Import(rel, node.lineno, f"{base}.{a.name}" if base else a.name) for a in node.names]
    return found


def all_imports(root: Path) -> list[Import]:
    return [imp for path in python_files(root) for imp in file_imports(root, path)]


def _is(name: str, target: str) -> bool:
    return name == target or name.startswith(target + ".")


def _once_per_statement(rule: str, hits: list[Import]) -> list[Violation]:
    """One violation per import statement (``from a.b import c`` names both ``a.b`` and ``a.b.c``)."""
    seen: dict[tuple[str, int], Import] = {}
    for imp in hits:
        seen.setdefault((imp.path, imp.line), imp)
    return [Violation(rule, f"{i.path}:{i.line}", f"imports {i.name}") for i in seen.values()]


def check_nn_has_no_rdkit_or_pandas(imports: list[Import]) -> list[Violation]:
    hits = [
        i for i in imports if i.path.startswith(f"{PACKAGE}/nn/") and (_is(i.name, "rdkit") or _is(i.name, "pandas"))
    ]
    return _once_per_statement("nn-no-rdkit-pandas", hits)


def check_streamlit_only_in_the_app(imports: list[Import]) -> list[Violation]:
    hits = [
        i
        for i in imports
        if _is(i.name, "streamlit") and not any(i.path == a or i.path.startswith(a) for a in STREAMLIT_ALLOWED)
    ]
    return _once_per_statement("streamlit-only-in-app", hits)


#: inference-only capabilities: they never import training code
INFERENCE_PARTS = ("predict", "retrieval", "encoders")


def check_predict_and_retrieval_do_not_import_train(imports: list[Import]) -> list[Violation]:
    hits = [
        i
        for i in imports
        if i.path.startswith(tuple(f"{PACKAGE}/{part}/" for part in INFERENCE_PARTS))
        and _is(i.name, f"{PACKAGE}.train")
    ]
    return _once_per_statement("no-train-in-predict-retrieval", hits)


def _part(name_or_path: str) -> str | None:
    """The top-level part of ``workbench`` a dotted module name or a relative path belongs to."""
    parts = name_or_path.removesuffix(".py").replace("/", ".").split(".")
    return parts[1] if len(parts) > 1 and parts[0] == PACKAGE and parts[1] != "__init__" else None


def package_graph(imports: list[Import]) -> dict[tuple[str, str], list[Import]]:
    """Edges between top-level parts of the package, each with the imports that make it."""
    parts = {_part(imp.path) for imp in imports}  # a name like ``workbench.__version__`` is not a part
    edges: dict[tuple[str, str], list[Import]] = {}
    for imp in imports:
        source, target = _part(imp.path), _part(imp.name)
        if source and target and target in parts and source != target:
            edges.setdefault((source, target), []).append(imp)
    return edges


def _cycle_through(start: str, members: set[str], adjacency: dict[str, set[str]]) -> list[str]:
    """A shortest cycle from ``start`` back to itself inside one strongly connected component."""
    paths = {start: [start]}
    frontier = [start]
    while frontier:
        nxt = []
        for node in frontier:
            for succ in sorted(adjacency.get(node, ())):
                if succ == start:
                    return [*paths[node], start]
                if succ in members and succ not in paths:
                    paths[succ] = [*paths[node], succ]
                    nxt.append(succ)
        frontier = nxt
    return [start]


def check_no_package_cycles(imports: list[Import]) -> list[Violation]:
    edges = package_graph(imports)
    adjacency: dict[str, set[str]] = {}
    for source, target in edges:
        adjacency.setdefault(source, set()).add(target)
    # Tarjan's strongly connected components
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[set[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for succ in sorted(adjacency.get(node, ())):
            if succ not in index:
                visit(succ)
                low[node] = min(low[node], low[succ])
            elif succ in on_stack:
                low[node] = min(low[node], index[succ])
        if low[node] == index[node]:
            component = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.add(member)
                if member == node:
                    break
            components.append(component)

    for node in sorted(adjacency):
        if node not in index:
            visit(node)
    violations = []
    for component in components:
        if len(component) < 2:
            continue
        cycle = _cycle_through(min(component), component, adjacency)
        evidence = "; ".join(
            f"{a} -> {b} at {edges[(a, b)][0].path}:{edges[(a, b)][0].line} ({edges[(a, b)][0].name})"
            for a, b in itertools.pairwise(cycle)
        )
        violations.append(
            Violation(
                "no-package-cycles", " -> ".join(cycle), f"parts {sorted(component)} import each other: {evidence}"
            )
        )
    return violations


RULES = {
    "nn-no-rdkit-pandas": check_nn_has_no_rdkit_or_pandas,
    "streamlit-only-in-app": check_streamlit_only_in_the_app,
    "no-train-in-predict-retrieval": check_predict_and_retrieval_do_not_import_train,
    "no-package-cycles": check_no_package_cycles,
}


def check_tree(root: Path) -> list[Violation]:
    """Every violation of every rule under ``root``."""
    imports = all_imports(root)
    return [v for check in RULES.values() for v in check(imports)]


# --- the real tree -------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def real_imports() -> list[Import]:
    return all_imports(ROOT)


@pytest.mark.parametrize("rule", sorted(RULES))
def test_the_workbench_keeps_the_rule(rule, real_imports):
    violations = RULES[rule](real_imports)
    assert not violations, "\n".join(map(str, violations))


def test_the_checker_sees_the_real_package(real_imports):
    parts = {part for (source, target) in package_graph(real_imports) for part in (source, target)}
    assert {"chem", "featurizers", "data", "nn", "models", "predict", "train", "app", "cli"} <= parts
    assert any(i.path == "app.py" and i.name == "streamlit" for i in real_imports)


# --- synthetic trees: each rule, broken on purpose, is reported ----------------------------------------------


def write_tree(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    for folder in {p.parent for p in root.rglob("*.py")}:
        if folder != root and folder.relative_to(root).parts[0] == PACKAGE:
            (folder / "__init__.py").touch()
    return root


CLEAN = {
    "app.py": "import streamlit as st\n",
    "pages/predict.py": "import streamlit as st\nfrom workbench.predict import run\n",
    "workbench/app/widgets.py": "import streamlit\n",
    "workbench/nn/gin.py": "import torch\n",
    "workbench/chem/molecule.py": "from rdkit import Chem\nimport pandas as pd\n",
    "workbench/data/loaders.py": "from workbench.chem import molecule\n",
    "workbench/predict/inference.py": "from workbench.data import loaders\nfrom ..nn import gin\n",
    "workbench/train/finetune.py": "from workbench.predict import inference\n",
    "workbench/retrieval/search.py": "from workbench.nn import gin\n",
    "tests/test_x.py": "import streamlit\nfrom workbench.train import finetune\n",  # tests are not checked
}


def test_a_clean_synthetic_tree_has_no_violation(tmp_path):
    assert check_tree(write_tree(tmp_path, CLEAN)) == []


@pytest.mark.parametrize(
    ("rule", "extra", "where"),
    [
        (
            "nn-no-rdkit-pandas",
            {"workbench/nn/heads.py": "from rdkit.Chem import AllChem\n"},
            "workbench/nn/heads.py:1",
        ),
        (
            "nn-no-rdkit-pandas",
            {"workbench/nn/gin.py": "import torch\n\n\ndef f():\n    import pandas\n"},
            "workbench/nn/gin.py:5",
        ),
        ("streamlit-only-in-app", {"workbench/chem/show.py": "import streamlit as st\n"}, "workbench/chem/show.py:1"),
        ("streamlit-only-in-app", {"bench/report.py": "from streamlit import cache_data\n"}, "bench/report.py:1"),
        (
            "no-train-in-predict-retrieval",
            {"workbench/predict/table.py": "def f():\n    from workbench.train.metrics import roc_auc\n"},
            "workbench/predict/table.py:2",
        ),
        (
            "no-train-in-predict-retrieval",
            {"workbench/retrieval/index.py": "from workbench import train\n"},
            "workbench/retrieval/index.py:1",
        ),
        (
            "no-train-in-predict-retrieval",
            {"workbench/predict/sub/deep.py": "from ...train import finetune\n"},
            "workbench/predict/sub/deep.py:1",
        ),
        (
            "no-package-cycles",
            {"workbench/chem/molecule.py": "def f():\n    from workbench.data import loaders\n"},
            "chem -> data -> chem",
        ),
        (
            "no-package-cycles",
            {"workbench/chem/molecule.py": "from workbench import predict\n"},
            "chem -> predict -> data -> chem",
        ),
    ],
)
def test_a_broken_rule_is_reported(tmp_path, rule, extra, where):
    root = write_tree(tmp_path, {**CLEAN, **extra})
    violations = check_tree(root)
    assert (rule, where) in [(v.rule, v.where) for v in violations], "\n".join(map(str, violations))
    assert [v.where for v in violations if v.rule == rule] == [where]  # once, not once per imported name


def test_relative_imports_resolve_against_the_package(tmp_path):
    root = write_tree(
        tmp_path,
        {
            "workbench/predict/__init__.py": "from .inference import run\nfrom .. import data\n",
            "workbench/predict/inference.py": "from . import table\nfrom ..data.loaders import load\n",
        },
    )
    names = {i.name for i in all_imports(root)}
    assert {"workbench.predict.inference", "workbench.data", "workbench.predict.table"} <= names
    assert {"workbench.data.loaders", "workbench.data.loaders.load"} <= names
