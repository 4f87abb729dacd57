"""hotlang stays a pure library: no Django, and no import cycle between its modules."""

import ast
from pathlib import Path

import hotlang

ROOT = Path(hotlang.__file__).parent


def _module_name(path: Path) -> str:
    parts = ("hotlang",) + path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _import_graph():
    modules = {_module_name(p): p for p in ROOT.rglob("*.py")}
    graph, external = {}, {}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        deps, outside = set(), set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
                subs = {f"{target}.{a.name}" for a in node.names} & modules.keys()
                deps |= subs
                if len(subs) < len(node.names) and target in modules:
                    deps.add(target)
            elif isinstance(node, ast.Import):
                outside |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom):
                outside.add(node.module.split(".")[0])
        graph[name], external[name] = deps, outside
    return graph, external


def _reachable(graph, start):
    seen, stack = set(), [start]
    while stack:
        for dep in graph[stack.pop()]:
            if dep not in seen:
                seen.add(dep)
                stack.append(dep)
    return seen


def test_hotlang_imports_no_django():
    _, external = _import_graph()
    assert {m for m, names in external.items() if names & {"django", "rest_framework"}} == set()


def test_hotlang_has_no_import_cycle():
    graph, _ = _import_graph()
    assert sorted(m for m in graph if m in _reachable(graph, m)) == []
