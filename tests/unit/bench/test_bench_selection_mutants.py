"""The mutation operators of `bench selection`: the intended AST change, on the given line only."""

from __future__ import annotations

import ast

import pytest

from airollout_tools.bench.selection.mutants import (
    DROP_NOT,
    FLIP_COMPARISON,
    FLIP_CONSTANT,
    OFF_BY_ONE,
    SWAP_BOOL_OP,
    apply,
    find_mutants,
)

pytestmark = pytest.mark.unit

SOURCE = """def admit(load, limit, ready, names):
    # é: a multi-byte character before the code shifts byte columns, not characters
    if load < limit and not ready:  # é
        return True
    return "x" not in names or load >= limit - 1
"""


def mutated(line: int, operator: str) -> list[str]:
    mutants = [m for m in find_mutants("m.py", SOURCE, {line}) if m.operator == operator]
    return [apply(SOURCE, mutant) for mutant in mutants]


def changed_lines(before: str, after: str) -> list[int]:
    pairs = zip(before.splitlines(), after.splitlines(), strict=True)
    return [number for number, (old, new) in enumerate(pairs, start=1) if old != new]


@pytest.mark.parametrize(
    ("line", "operator", "expected"),
    [
        (3, FLIP_COMPARISON, "    if load >= limit and not ready:  # é"),
        (3, DROP_NOT, "    if load < limit and ready:  # é"),
        (3, SWAP_BOOL_OP, "    if load < limit or not ready:  # é"),
        (4, FLIP_CONSTANT, "        return False"),
        (5, OFF_BY_ONE, '    return "x" not in names or load >= limit - (1 + 1)'),
    ],
)
def test_each_operator_rewrites_its_node_on_that_line_only(
    line: int, operator: str, expected: str
) -> None:
    [faulty] = mutated(line, operator)
    assert changed_lines(SOURCE, faulty) == [line]
    assert faulty.splitlines()[line - 1] == expected
    ast.parse(faulty)


def test_a_flipped_membership_and_comparison_are_two_mutants() -> None:
    lines = {faulty.splitlines()[4] for faulty in mutated(5, FLIP_COMPARISON)}
    assert lines == {
        '    return "x" in names or load >= limit - 1',
        '    return "x" not in names or load < limit - 1',
    }


def test_the_ast_changes_as_intended() -> None:
    [faulty] = mutated(3, FLIP_COMPARISON)
    test = ast.parse(faulty).body[0].body[0].test  # type: ignore[attr-defined]
    assert isinstance(test.values[0].ops[0], ast.GtE)
    [dropped] = mutated(3, DROP_NOT)
    operand = ast.parse(dropped).body[0].body[0].test.values[1]  # type: ignore[attr-defined]
    assert isinstance(operand, ast.Name)
    assert operand.id == "ready"


def test_nodes_on_other_lines_are_left_alone() -> None:
    assert {m.line for m in find_mutants("m.py", SOURCE, {4})} == {4}
    assert find_mutants("m.py", SOURCE, {1, 2}) == []


def test_a_compound_statement_is_seen_by_its_header_lines() -> None:
    [mutant] = [m for m in find_mutants("m.py", SOURCE, {3}) if m.operator == DROP_NOT]
    assert mutant.statement_lines == (3, 3)


def test_a_file_that_does_not_parse_has_no_mutants() -> None:
    assert find_mutants("m.py", "def broken(:\n", {1}) == []
