"""Filter expressions of ``workbench screen --where``: parsed with :mod:`ast`, never evaluated as Python.

An expression compares columns with numbers or strings and joins the comparisons with ``and``, ``or``,
``not`` and parentheses: ``admet_ai:BBB_Martins > 0.7 and MW < 450``, ``0 < QED <= 1``, ``error == ""``.
Column names may hold ``:``, ``.`` and ``-`` (``MODEL:TASK:std``); a name with other characters is written
in backticks (`` `my column` > 3 ``). Each name is replaced by a placeholder identifier before
:func:`ast.parse` sees the text, and only comparisons, boolean operators, constants and those placeholders
are accepted: calls, attributes, subscripts, arithmetic and lambdas are refused with a message.

Evaluation is vectorised over a pandas frame; a comparison with NaN (or a missing value) is false, ``!=``
included.
"""

from __future__ import annotations

import ast
import difflib
import keyword
import operator
import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["WhereError", "WhereExpression", "parse_where", "unknown_column_message"]

_TOKEN = re.compile(
    r"""
    (?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
  | (?P<quoted>`[^`]*`)
  | (?P<number>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
  | (?P<name>[A-Za-z_][A-Za-z0-9_:.\-]*)
  | (?P<other>.)
    """,
    re.VERBOSE | re.DOTALL,
)
#: Words left to :mod:`ast`: the boolean operators, and constants; every other keyword is refused there.
_WORDS = {"and", "or", "not", "True", "False"}
_COMPARE: dict[type, Callable[[object, object], object]] = {
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
}
_REFUSED = {
    ast.Call: "a function call",
    ast.Attribute: "attribute access",
    ast.Subscript: "indexing",
    ast.BinOp: "arithmetic",
    ast.Lambda: "a lambda",
    ast.IfExp: "an if-else expression",
}


class WhereError(ValueError):
    """A ``--where`` expression that cannot be used (bad syntax, a forbidden construct, an unknown column)."""


@dataclass(frozen=True)
class WhereExpression:
    """A checked filter expression: its text, its syntax tree and the column names it reads."""

    text: str
    tree: ast.Expression
    names: Mapping[str, str]  # placeholder identifier -> column name

    @property
    def columns(self) -> list[str]:
        """The column names the expression reads, in order of first use."""
        return list(dict.fromkeys(self.names.values()))

    def check_columns(self, available: Collection[str], hints: Mapping[str, str] | None = None) -> None:
        """Refuse a column not in ``available``, naming it and its close matches (``hints``: extra advice by name)."""
        for column in self.columns:
            if column not in available:
                raise WhereError(unknown_column_message(column, available, hints))

    def evaluate(self, frame: pd.DataFrame) -> np.ndarray:
        """A boolean mask over ``frame``'s rows (NaN and missing values compare false)."""
        value = self._eval(self.tree.body, frame)
        if np.ndim(value) == 0:
            return np.full(len(frame), bool(value))
        return np.asarray(value, dtype=bool)

    def _eval(self, node: ast.expr, frame: pd.DataFrame) -> object:
        if isinstance(node, ast.BoolOp):
            parts = [self._eval(v, frame) for v in node.values]
            combine = np.logical_and if isinstance(node.op, ast.And) else np.logical_or
            result = parts[0]
            for part in parts[1:]:
                result = combine(result, part)
            return result
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            return np.logical_not(self._eval(node.operand, frame))
        if isinstance(node, ast.Compare):
            operands = [self._operand(n, frame) for n in (node.left, *node.comparators)]
            result: object = True
            for op, left, right in zip(node.ops, operands, operands[1:], strict=False):
                result = np.logical_and(result, _compare(_COMPARE[type(op)], left, right, self.text))
            return result
        raise WhereError(f"'{self.text}': each part must be a comparison")  # unreachable after parse_where

    def _operand(self, node: ast.expr, frame: pd.DataFrame) -> object:
        if isinstance(node, ast.Name):
            return frame[self.names[node.id]]
        return _constant(node)


def _constant(node: ast.expr) -> object:
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        value = _constant(node.operand)
        return -value if isinstance(node.op, ast.USub) else value  # type: ignore[operator]
    assert isinstance(node, ast.Constant)
    return node.value


def _compare(op: Callable[[object, object], object], left: object, right: object, text: str) -> np.ndarray:
    """``op(left, right)`` element-wise; false wherever a side is missing (NaN, None)."""
    try:
        result = np.asarray(op(left, right), dtype=bool)
    except TypeError as exc:
        raise WhereError(f"'{text}': cannot compare these values ({exc})") from exc
    for side in (left, right):
        if isinstance(side, pd.Series):
            result = result & side.notna().to_numpy()
    return result


def unknown_column_message(column: str, available: Collection[str], hints: Mapping[str, str] | None = None) -> str:
    """``unknown column 'X'`` with advice from ``hints`` and the closest names among ``available``."""
    message = f"unknown column '{column}' in --where"
    if hints and column in hints:
        return f"{message}: {hints[column]}"
    close = difflib.get_close_matches(column, list(available), n=4, cutoff=0.5)
    if close:
        return f"{message}; did you mean {', '.join(repr(c) for c in close)}?"
    shown = sorted(available)
    more = f", ... ({len(shown) - 12} more)" if len(shown) > 12 else ""
    return f"{message}; available: {', '.join(shown[:12])}{more}"


def _substitute(text: str) -> tuple[str, dict[str, str]]:
    """The text with every column name replaced by a placeholder identifier, and the placeholders' names."""
    out: list[str] = []
    names: dict[str, str] = {}
    by_column: dict[str, str] = {}
    for match in _TOKEN.finditer(text):
        kind, token = match.lastgroup, match.group()
        column = None
        if kind == "quoted":
            column = token[1:-1]
        elif kind == "name" and token not in _WORDS:
            if keyword.iskeyword(token):
                raise WhereError(f"'{text}': '{token}' is not allowed (only and, or, not and comparisons)")
            column = token
        if column is None:
            out.append(token)
            continue
        if not column:
            raise WhereError(f"'{text}': an empty column name (``)")
        placeholder = by_column.setdefault(column, f"_c{len(by_column)}")
        names[placeholder] = column
        out.append(placeholder)
    return "".join(out), names


def _check_node(node: ast.expr, text: str, *, boolean: bool) -> None:
    """Accept only comparisons joined by and / or / not, over placeholders and constants."""
    refused = next((what for kind, what in _REFUSED.items() if isinstance(node, kind)), None)
    if refused:
        raise WhereError(f"'{text}': {refused} is not allowed (only comparisons joined by and, or, not)")
    if boolean:
        if isinstance(node, ast.BoolOp):
            for value in node.values:
                _check_node(value, text, boolean=True)
            return
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            _check_node(node.operand, text, boolean=True)
            return
        if isinstance(node, ast.Compare):
            for op in node.ops:
                if type(op) not in _COMPARE:
                    raise WhereError(f"'{text}': only <, <=, >, >=, == and != compare (not 'in' or 'is')")
            for operand in (node.left, *node.comparators):
                _check_node(operand, text, boolean=False)
            return
        raise WhereError(f"'{text}': each part must be a comparison such as 'MW < 450'")
    if isinstance(node, ast.Name):
        return
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        _check_node(node.operand, text, boolean=False)
        if isinstance(node.operand, ast.Constant) and isinstance(node.operand.value, int | float):
            return
        raise WhereError(f"'{text}': a sign may only stand before a number")
    if isinstance(node, ast.Constant) and isinstance(node.value, int | float | str | bool):
        return
    raise WhereError(f"'{text}': {type(node).__name__} is not allowed (only columns, numbers and strings compare)")


def parse_where(text: str) -> WhereExpression:
    """Parse and check a filter expression (nothing is evaluated).

    Raises:
        WhereError: a syntax error, or anything other than comparisons of columns, numbers and strings
            joined by ``and``, ``or``, ``not`` and parentheses.
    """
    if not text or not text.strip():
        raise WhereError("the --where expression is empty")
    substituted, names = _substitute(text.strip())
    try:
        tree = ast.parse(substituted, mode="eval")
    except SyntaxError as exc:
        raise WhereError(f"'{text}' is not a valid filter expression ({exc.msg})") from None
    _check_node(tree.body, text, boolean=True)
    for node in ast.walk(tree):  # belt and braces: no identifier but ours reaches evaluation
        if isinstance(node, ast.Name) and node.id not in names:
            raise WhereError(f"'{text}': unexpected name")
    return WhereExpression(text, tree, names)
