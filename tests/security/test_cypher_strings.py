"""Every Cypher query maillage builds is a constant with parameters: none is built from values.

The check reads the source of ``graph/``, ``api/``, ``loaders/``, ``analysis/`` and
``maillage/`` with :mod:`ast` and flags any string built by f-string, ``%``, ``.format``,
``+`` or ``.replace`` whose text looks like Cypher. One documented exception:
``graph/neo4j_store.py``'s ``_per_type``, which fills a relationship type and a label into
templates from constant whitelists (a static type makes ``MERGE`` much faster); a test below
proves it takes nothing else.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from maillage.settings import REPO_ROOT

PACKAGES = ("graph", "api", "loaders", "analysis", "maillage")
#: Upper-case Cypher clauses in the shape a query has them (prose rarely does).
CYPHER = re.compile(
    r"\b(?:OPTIONAL\s+)?MATCH\s*\(|\bMERGE\s*\(|\bCREATE\s*[(\[]|\b(?:DETACH\s+)?DELETE\s+\w|\bSET\s+\w+\s*[.=:+]"
    r"|\bRETURN\s+[\w*$(]|\bUNWIND\s+\S+\s+AS\b|\bCALL\s+\w+\.\w+|\bLOAD\s+CSV\b"
)
#: (file, function) pairs allowed to build query text; each is justified by a test below.
ALLOWED = {("graph/neo4j_store.py", "_per_type")}


def _literal_text(node: ast.AST) -> str:
    """The constant text inside an expression (f-string parts, operands, receivers)."""
    parts = []
    for sub in ast.walk(node):
        if isinstance(sub, ast.Constant) and isinstance(sub.value, str):
            parts.append(sub.value)
    return " ".join(parts)


def _constants(tree: ast.Module) -> dict[str, str]:
    """Module-level names bound to a string constant (query texts such as ``_CLEAR``)."""
    out = {}
    for stmt in tree.body:
        if isinstance(stmt, ast.Assign) and isinstance(stmt.value, ast.Constant) and isinstance(stmt.value.value, str):
            for target in stmt.targets:
                if isinstance(target, ast.Name):
                    out[target.id] = stmt.value.value
    return out


def string_built_queries(source: str, filename: str = "<source>") -> list[tuple[int, str, str]]:
    """Return ``(line, function, text)`` for each Cypher-looking string built from values.

    Examples
    --------
    >>> string_built_queries("q = f\\"MATCH (n {{id: '{x}'}}) RETURN n\\"")[0][:2]
    (1, '<module>')
    >>> string_built_queries("q = 'MATCH (n) RETURN n'")
    []
    """
    tree = ast.parse(source, filename)
    constants = _constants(tree)
    found: list[tuple[int, str, str]] = []
    # What each function's parameters receive at its call sites in this module, so that a
    # template passed in as an argument (``_per_type(_TEMPLATE)``) is seen through.
    params: dict[str, list[str]] = {}
    for fn in ast.walk(tree):
        if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
            params[fn.name] = [a.arg for a in fn.args.args]
    received: dict[tuple[str, str], list[str]] = {}
    for call in ast.walk(tree):
        if isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id in params:
            for param, arg in zip(params[call.func.id], call.args):
                received.setdefault((call.func.id, param), []).append(
                    constants.get(arg.id, "") if isinstance(arg, ast.Name) else _literal_text(arg))
    function_stack: list[str] = []

    def text_of(node: ast.AST) -> str:
        if isinstance(node, ast.Name):
            if node.id in constants:
                return constants[node.id]
            if function_stack:
                return " ".join(received.get((function_stack[-1], node.id), []))
        return _literal_text(node)

    def constant(node: ast.AST) -> bool:
        # Text made only of literals and module constants holds no value from anywhere: it is
        # a query written in pieces, not a query built from data.
        if isinstance(node, ast.Constant):
            return isinstance(node.value, str)
        if isinstance(node, ast.Name):
            return node.id in constants
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            return constant(node.left) and constant(node.right)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in ("replace", "format"):
            return constant(node.func.value) and all(constant(a) for a in node.args) and not node.keywords
        return False

    def visit(node: ast.AST, function: str) -> None:
        for child in ast.iter_child_nodes(node):
            is_function = isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef))
            name = child.name if is_function else function
            if is_function:
                function_stack.append(child.name)
            built = None
            if isinstance(child, ast.JoinedStr) and any(isinstance(v, ast.FormattedValue) for v in child.values):
                built = _literal_text(child)
            elif isinstance(child, ast.BinOp) and isinstance(child.op, (ast.Mod, ast.Add)):
                built = text_of(child.left) + " " + text_of(child.right)
            elif (isinstance(child, ast.Call) and isinstance(child.func, ast.Attribute)
                  and child.func.attr in ("format", "replace", "format_map", "join")):
                built = text_of(child.func.value) + " " + " ".join(text_of(a) for a in child.args)
            if built and CYPHER.search(built) and not constant(child):
                found.append((child.lineno, name, " ".join(built.split())[:120]))
            visit(child, name)
            if is_function:
                function_stack.pop()

    visit(tree, "<module>")
    return found


def _sources():
    for package in PACKAGES:
        for path in sorted((REPO_ROOT / package).rglob("*.py")):
            yield path.relative_to(REPO_ROOT).as_posix(), path


@pytest.mark.parametrize("bad", [
    "def f(x):\n    return session.run(f\"MATCH (o:Organization {{id: '{x}'}}) RETURN o\")",
    "def f(x):\n    return \"MATCH (o) WHERE o.name = '%s' RETURN o\" % x",
    "def f(x):\n    return \"MATCH (o) WHERE o.name = '{}' RETURN o\".format(x)",
    "def f(x):\n    return \"MATCH (o) WHERE o.name = '\" + x + \"' RETURN o\"",
    "Q = 'MATCH (o:LABEL) RETURN o'\ndef f(x):\n    return Q.replace('LABEL', x)",
    "def f(label):\n    return f'CREATE (n:{label})'",
    "def f(t):\n    return ' '.join(['MATCH (a)-[r:', t, ']->(b) RETURN r'])",
    "Q = 'MATCH (o:LABEL) RETURN o'\ndef f(template, x):\n    return template.replace('LABEL', x)\nA = f(Q, y)",
])
def test_the_detector_finds_string_built_cypher(bad):
    assert string_built_queries(bad)


@pytest.mark.parametrize("fine", [
    "Q = 'MATCH (o:Organization {id: $id}) RETURN o'\ndef f(s, x):\n    return s.run(Q, id=x)",
    "def f(n):\n    raise ValueError(f'{n} rows: add a LIMIT or a narrower MATCH.')",
    "def f(q):\n    return f'The query {q!r} was refused'",
])
def test_the_detector_leaves_parameterised_queries_and_prose_alone(fine):
    assert string_built_queries(fine) == []


def test_no_cypher_is_built_from_values_anywhere():
    found = []
    for rel, path in _sources():
        for line, function, text in string_built_queries(path.read_text(encoding="utf-8"), rel):
            if (rel, function) not in ALLOWED:
                found.append(f"{rel}:{line} in {function}(): {text}")
    assert found == [], "Cypher built by string formatting (use $parameters):\n" + "\n".join(found)


def test_the_detector_does_see_the_one_allowed_template():
    # The exception is real (so the scan does read graph/neo4j_store.py) and is the only one.
    source = (REPO_ROOT / "graph" / "neo4j_store.py").read_text(encoding="utf-8")
    assert {f for _, f, _ in string_built_queries(source)} == {"_per_type"}


def test_per_type_templates_only_take_names_from_constant_whitelists():
    from graph import neo4j_store
    from maillage.model import CLUSTER, ORGANIZATION, RELATIONSHIP_TYPES

    # What it substitutes: only the module's constant relationship types and two labels.
    tree = ast.parse((REPO_ROOT / "graph" / "neo4j_store.py").read_text(encoding="utf-8"))
    fn = next(n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name == "_per_type")
    comp = next(n for n in ast.walk(fn) if isinstance(n, ast.DictComp))
    iterables = [ast.unparse(g.iter) for g in comp.generators]
    assert iterables == ["RELATIONSHIP_TYPES", "(ORGANIZATION, CLUSTER)"]
    assert [ast.unparse(a) for a in fn.args.args] == ["template: str"]
    assert isinstance(RELATIONSHIP_TYPES, tuple) and all(re.fullmatch(r"[A-Z][A-Z_]*", t) for t in RELATIONSHIP_TYPES)
    assert re.fullmatch(r"[A-Z][A-Za-z]*", ORGANIZATION) and re.fullmatch(r"[A-Z][A-Za-z]*", CLUSTER)
    # Where it is called: only on module constants, and the results are what they should be.
    calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call) and getattr(n.func, "id", None) == "_per_type"]
    assert calls and all(isinstance(c.args[0], ast.Name) and c.args[0].id.isupper() for c in calls)
    for table, template in ((neo4j_store._WRITE_RELATIONSHIPS, neo4j_store._WRITE_RELATIONSHIPS_TEMPLATE),):
        assert set(table) == {(t, label) for t in RELATIONSHIP_TYPES for label in (ORGANIZATION, CLUSTER)}
        for (t, label), text in table.items():
            assert text == template.replace("REL_TYPE", t).replace("TARGET_LABEL", label)
            assert "$rows" in text


def test_every_query_the_store_runs_is_a_module_constant_or_a_whitelisted_template():
    # tx.run / session.run / execute_query in graph/ take a constant (or the analyst's own text
    # in run_query, which runs in a READ session), never an expression built on the spot.
    tree = ast.parse((REPO_ROOT / "graph" / "neo4j_store.py").read_text(encoding="utf-8"))
    odd = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in ("run", "execute_query"):
            if not node.args:
                continue
            arg = node.args[0]
            ok = (isinstance(arg, ast.Name) and (arg.id.isupper() or arg.id in ("statement", "text", "query")))
            ok = ok or (isinstance(arg, ast.Subscript) and isinstance(arg.value, ast.Name) and arg.value.id.isupper())
            ok = ok or (isinstance(arg, ast.Constant) and isinstance(arg.value, str))
            if not ok:
                odd.append(f"line {node.lineno}: {ast.unparse(node)[:100]}")
    assert odd == []
