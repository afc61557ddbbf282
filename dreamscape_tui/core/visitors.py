"""Radon 6's complexity and Halstead visitors, ported for speed: the same numbers.

``radon.visitors.ComplexityVisitor`` and ``HalsteadVisitor`` are ``ast.NodeVisitor``s:
every node costs a method lookup by name, a generator over its fields and, inside every
function, a new visitor per statement. They take three quarters of a file's analysis.
These ports walk the tree once each with a type-keyed dispatch, and compute only what
the scanner reports (per block: name, line and complexity; the module's total
complexity; Halstead's four counts), by radon's own rules:

* complexity: +1 per ``if``/``elif``/conditional expression and ``assert``; a ``try``
  counts its handlers and its ``else``; a boolean operation its operands minus one; a
  ``for``/``while`` 1 plus its ``else``; a comprehension 1 plus its ``if``s; a
  ``match`` its cases, less one if a case is a bare capture (``case _:``). A
  function's complexity is 1 plus its body's (decorators, defaults and annotations do
  not count, nor do the functions and classes nested in it, which are no blocks). A
  class's body counts 1 plus its statements and its methods' complexities; its
  complexity is that divided by its method count, plus 1 with several methods;
* Halstead: operators and operands of binary, unary, boolean and augmented operations
  and comparisons; distinct operands are told apart by the innermost function they
  occur in; a function's decorators, arguments and annotations are not visited.

Both recurse like radon (deeply nested code ends in ``RecursionError``, which the caller
turns into "too deeply nested"). ``tests/test_metrics_identity.py`` holds the results to
radon's own on the standard library, Django and crafted corner cases.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from typing import Any, NamedTuple

__all__ = ["Block", "Halstead", "complexity", "halstead"]


class Block(NamedTuple):
    """A radon cc block: ``fullname``, ``lineno`` and ``complexity`` as radon has them."""

    fullname: str
    lineno: int
    complexity: int


class Halstead(NamedTuple):
    """The four counts ``radon.metrics.halstead_visitor_report`` reads from a visitor."""

    distinct_operators: int
    distinct_operands: int
    operators: int
    operands: int


_AST = ast.AST


def _match(node: Any) -> int:
    bare = any(getattr(case.pattern, "pattern", False) is None for case in node.cases)
    return max(0, len(node.cases) - bare)


# ComplexityVisitor.generic_visit's increments, by node type (radon compares type names).
_INCREMENTS: dict[type, Callable[[Any], int]] = {
    ast.Try: lambda n: len(n.handlers) + bool(n.orelse),
    ast.BoolOp: lambda n: len(n.values) - 1,
    ast.If: lambda n: 1,
    ast.IfExp: lambda n: 1,
    ast.Match: _match,
    ast.For: lambda n: bool(n.orelse) + 1,
    ast.While: lambda n: bool(n.orelse) + 1,
    ast.AsyncFor: lambda n: bool(n.orelse) + 1,
    ast.comprehension: lambda n: len(n.ifs) + 1,
}


class _Complexity:
    """One ``ComplexityVisitor``'s state: its decision points, functions and classes."""

    __slots__ = ("classes", "classname", "complexity", "functions", "nested")

    def __init__(self, classname: str | None = None, *, nested: bool = False) -> None:
        self.complexity = 0
        self.classname = classname
        # (name, lineno, complexity); classes: (name, lineno, real complexity, methods)
        self.functions: list[tuple[str, int, int]] = []
        self.classes: list[tuple[str, int, int, list[tuple[str, int, int]]]] = []
        # inside a function body, nested functions and classes are no blocks and add
        # nothing to the function's complexity (radon keeps them as closures or drops
        # them): they need not be visited at all
        self.nested = nested

    def visit(self, node: Any) -> None:
        kind = type(node)
        if kind is ast.FunctionDef or kind is ast.AsyncFunctionDef:
            if not self.nested:
                self.functions.append((node.name, node.lineno, _body(node.body)))
            return
        if kind is ast.ClassDef:
            if not self.nested:
                self.classes.append(_class(node))
            return
        if kind is ast.Assert:  # no_assert=False; radon does not look inside
            self.complexity += 1
            return
        increment = _INCREMENTS.get(kind)
        if increment is not None:
            self.complexity += increment(node)
        for name in kind._fields:
            value = getattr(node, name, None)
            if isinstance(value, list):
                for item in value:
                    if isinstance(item, _AST):
                        self.visit(item)
            elif isinstance(value, _AST):
                self.visit(value)


def _body(statements: list[ast.stmt]) -> int:
    """A function's complexity: 1 plus the decision points of its body."""
    inner = _Complexity(nested=True)
    for child in statements:
        inner.visit(child)
    return 1 + inner.complexity


def _class(node: ast.ClassDef) -> tuple[str, int, int, list[tuple[str, int, int]]]:
    inner = _Complexity(node.name)
    for child in node.body:
        inner.visit(child)
    # radon: 1 + sum over statements of (complexity + functions_complexity + functions)
    real = 1 + inner.complexity + sum(f[2] for f in inner.functions)
    return (node.name, node.lineno, real, inner.functions)


def complexity(tree: ast.Module) -> tuple[list[Block], int]:
    """``ComplexityVisitor.from_ast(tree)``'s ``blocks`` and ``total_complexity``."""
    top = _Complexity()
    top.visit(tree)
    blocks = [Block(name, lineno, cc) for name, lineno, cc in top.functions]
    total = 1 + top.complexity + sum(f[2] - 1 for f in top.functions)
    for name, lineno, real, methods in top.classes:
        cc = real if not methods else int(real / float(len(methods))) + (len(methods) > 1)
        blocks.append(Block(name, lineno, cc))
        blocks.extend(Block(f"{name}.{m}", line, m_cc) for m, line, m_cc in methods)
        total += real - 1
    return blocks, total


# HalsteadVisitor.types: how an operand node becomes a distinct operand (by type name).
_OPERAND_ATTRIBUTES = {"Num": "n", "Name": "id", "Attribute": "attr", "Constant": "value"}


class _Halstead:
    __slots__ = ("operands", "operands_seen", "operators", "operators_seen")

    def __init__(self) -> None:
        self.operators = self.operands = 0
        self.operators_seen: set[str] = set()
        self.operands_seen: set[tuple[str | None, object]] = set()

    def visit(self, node: Any, context: str | None) -> None:
        kind = type(node)
        if kind is ast.FunctionDef or kind is ast.AsyncFunctionDef:
            for child in node.body:  # decorators, arguments, annotations: not visited
                self.visit(child, node.name)
            return
        if kind is ast.BinOp:
            self._count(1, (type(node.op).__name__,), (node.left, node.right), context)
        elif kind is ast.Compare:
            self._count(len(node.ops), [type(op).__name__ for op in node.ops],
                        [*node.comparators, node.left], context)
        elif kind is ast.BoolOp:
            self._count(1, (type(node.op).__name__,), node.values, context)
        elif kind is ast.UnaryOp:
            self._count(1, (type(node.op).__name__,), (node.operand,), context)
        elif kind is ast.AugAssign:
            self._count(1, (type(node.op).__name__,), (node.target, node.value), context)
        for name in kind._fields:
            value = getattr(node, name, None)
            if isinstance(value, list):
                for item in value:
                    if isinstance(item, _AST):
                        self.visit(item, context)
            elif isinstance(value, _AST):
                self.visit(value, context)

    def _count(self, operators: int, names: Any, operands: Any, context: str | None) -> None:
        self.operators += operators
        self.operands += len(operands)
        self.operators_seen.update(names)
        seen = self.operands_seen
        for operand in operands:
            attribute = _OPERAND_ATTRIBUTES.get(type(operand).__name__)
            seen.add((context, getattr(operand, attribute, operand) if attribute else operand))


def halstead(tree: ast.Module) -> Halstead:
    """The counts of ``HalsteadVisitor.from_ast(tree)`` (context None)."""
    visitor = _Halstead()
    visitor.visit(tree, None)
    return Halstead(len(visitor.operators_seen), len(visitor.operands_seen),
                    visitor.operators, visitor.operands)
