"""Faulty changes: one small mutation of a line a commit changed, written back as source text.

The stdlib `ast` finds the mutable nodes; the rewrite edits the source at the node's own
positions (AST column offsets are UTF-8 byte offsets), so the rest of the file, comments and
formatting included, stays byte for byte as the commit wrote it.
"""

from __future__ import annotations

import ast
import dataclasses
import re
from collections.abc import Collection, Iterator

FLIP_COMPARISON, DROP_NOT, OFF_BY_ONE, SWAP_BOOL_OP, FLIP_CONSTANT = (
    "flip-comparison",
    "drop-not",
    "off-by-one",
    "swap-and-or",
    "flip-true-false",
)
OPERATORS = (FLIP_COMPARISON, DROP_NOT, OFF_BY_ONE, SWAP_BOOL_OP, FLIP_CONSTANT)

# operator class -> (its text, the text of the flipped comparison)
_FLIPS: dict[type[ast.cmpop], tuple[str, str]] = {
    ast.Lt: ("<", ">="),
    ast.GtE: (">=", "<"),
    ast.Gt: (">", "<="),
    ast.LtE: ("<=", ">"),
    ast.Eq: ("==", "!="),
    ast.NotEq: ("!=", "=="),
    ast.In: ("in", "not in"),
    ast.NotIn: ("not in", "in"),
    ast.Is: ("is", "is not"),
    ast.IsNot: ("is not", "is"),
}


@dataclasses.dataclass(frozen=True)
class Span:
    """A stretch of source: 1-based lines, UTF-8 byte columns, as `ast` reports them."""

    line: int
    col: int
    end_line: int
    end_col: int


@dataclasses.dataclass(frozen=True)
class Mutant:
    path: str
    line: int
    operator: str
    span: Span  # the text replaced
    replacement: str
    statement_lines: tuple[int, int]  # the enclosing statement: a test that runs it sees it

    @property
    def label(self) -> str:
        return f"{self.path}:{self.line} {self.operator}"


def find_mutants(path: str, source: str, lines: Collection[int]) -> list[Mutant]:
    """Every mutation of a node that starts on one of `lines`, in source order."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    found = [
        mutant
        for statement, node in _nodes_with_statement(tree)
        if getattr(node, "lineno", None) in lines
        for mutant in _mutations(path, source, statement, node)
    ]
    return sorted(found, key=lambda m: (m.span.line, m.span.col, m.operator))


def apply(source: str, mutant: Mutant) -> str:
    data = source.encode()
    starts = _line_starts(data)
    begin = starts[mutant.span.line - 1] + mutant.span.col
    end = starts[mutant.span.end_line - 1] + mutant.span.end_col
    return (data[:begin] + mutant.replacement.encode() + data[end:]).decode()


def _nodes_with_statement(tree: ast.AST) -> Iterator[tuple[ast.stmt, ast.AST]]:
    def walk(node: ast.AST, statement: ast.stmt | None) -> Iterator[tuple[ast.stmt, ast.AST]]:
        if isinstance(node, ast.stmt):
            statement = node
        if statement is not None:
            yield statement, node
        for child in ast.iter_child_nodes(node):
            yield from walk(child, statement)

    yield from walk(tree, None)


def _mutations(path: str, source: str, statement: ast.stmt, node: ast.AST) -> Iterator[Mutant]:
    lines = _header_lines(statement)
    for operator, span, replacement in _edits(source, node):
        yield Mutant(path, span.line, operator, span, replacement, lines)


def _header_lines(statement: ast.stmt) -> tuple[int, int]:
    """A compound statement's lines are its header's: its body's lines are other statements."""
    body = getattr(statement, "body", None)
    if isinstance(body, list) and body and isinstance(body[0], ast.stmt):
        return statement.lineno, max(statement.lineno, body[0].lineno - 1)
    return statement.lineno, statement.end_lineno or statement.lineno


def _edits(source: str, node: ast.AST) -> Iterator[tuple[str, Span, str]]:
    if isinstance(node, ast.Compare):
        yield from _flip_comparison(source, node)
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        yield DROP_NOT, _span(node), _text(source, _span(node.operand))
    elif isinstance(node, ast.BoolOp):
        yield from _swap_bool_op(source, node)
    elif isinstance(node, ast.Constant) and isinstance(node.value, bool):
        yield FLIP_CONSTANT, _span(node), str(not node.value)
    elif isinstance(node, ast.Constant) and type(node.value) is int:
        yield OFF_BY_ONE, _span(node), f"({_text(source, _span(node))} + 1)"


def _flip_comparison(source: str, node: ast.Compare) -> Iterator[tuple[str, Span, str]]:
    flip = _FLIPS.get(type(node.ops[0]))
    if flip is None:
        return
    gap = _between(node.left, node.comparators[0])
    text = _text(source, gap)
    pattern = r"\bnot\s+in\b|\bis\s+not\b|\bin\b|\bis\b" if flip[0][0].isalpha() else r"[<>=!]=?"
    matches = list(re.finditer(pattern, text))
    if len(matches) == 1:
        yield FLIP_COMPARISON, gap, text[: matches[0].start()] + flip[1] + text[matches[0].end() :]


def _swap_bool_op(source: str, node: ast.BoolOp) -> Iterator[tuple[str, Span, str]]:
    old, new = ("and", "or") if isinstance(node.op, ast.And) else ("or", "and")
    gap = _between(node.values[0], node.values[1])
    text = _text(source, gap)
    matches = list(re.finditer(rf"\b{old}\b", text))
    if len(matches) == 1:
        yield SWAP_BOOL_OP, gap, text[: matches[0].start()] + new + text[matches[0].end() :]


def _span(node: ast.expr) -> Span:
    end_line = node.end_lineno or node.lineno
    return Span(node.lineno, node.col_offset, end_line, node.end_col_offset or 0)


def _between(left: ast.expr, right: ast.expr) -> Span:
    first, second = _span(left), _span(right)
    return Span(first.end_line, first.end_col, second.line, second.col)


def _text(source: str, span: Span) -> str:
    data = source.encode()
    starts = _line_starts(data)
    begin = starts[span.line - 1] + span.col
    return data[begin : starts[span.end_line - 1] + span.end_col].decode()


def _line_starts(data: bytes) -> list[int]:
    starts = [0]
    for line in data.splitlines(keepends=True):
        starts.append(starts[-1] + len(line))
    return starts
