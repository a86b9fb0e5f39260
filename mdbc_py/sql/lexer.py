"""A small MariaDB lexer: tokens, statement boundaries and text for sqlglot.

The classifier needs to know where statements start and end, what their
leading keyword is and where the table names are before (and often instead
of) running the full sqlglot parser, which costs about a millisecond per
statement. One regular expression gives that in tens of microseconds.

MariaDB specifics handled here, because sqlglot would otherwise misread them:

- comments (``/* */``, ``-- `` and ``#``) are dropped, but the *content* of
  executable comments (``/*! ... */``, ``/*!40101 ... */``, ``/*M!100101
  ... */``) is code the server runs, so it is kept and only its markers go;
- driver placeholders (pyformat ``%s`` and ``%(name)s``, and ``?``) become
  ``?`` and ``%%`` becomes ``%``, because the driver classifies the template
  before the parameters are interpolated;
- a ``;`` inside a compound statement body (``CREATE PROCEDURE ... BEGIN
  ...; ...; END``) does not end the statement.

Strings follow MariaDB's default ``sql_mode``: backslash escapes, and double
quotes delimit strings (not identifiers, which ``ANSI_QUOTES`` would make
them).
"""

from __future__ import annotations

import re
from typing import NamedTuple

__all__ = [
    "NUMBER",
    "PARAM",
    "PUNCT",
    "QUOTED",
    "STRING",
    "WORD",
    "Lexed",
    "Token",
    "split_statements",
    "sql_text",
    "tokenize",
]

WORD = "word"
"""Keyword or unquoted identifier (also integers and ``@var``/``@@var``)."""
QUOTED = "quoted"
"""Backquoted identifier; :attr:`Token.value` is the unquoted name."""
STRING = "string"
NUMBER = "number"
"""A number with a decimal point or exponent (integers lex as :data:`WORD`)."""
PARAM = "param"
"""A driver placeholder (``%s``, ``%(name)s``, ``?``) or an escaped ``%%``."""
PUNCT = "punct"


class Token(NamedTuple):
    """One token of SQL text.

    A named tuple rather than a dataclass: the lexer makes one per word of
    every statement on the driver's hot path, and tuples are the cheapest
    objects Python builds.
    """

    type: str
    text: str
    """The source text; for :data:`PARAM` the text sqlglot gets (``?`` or ``%``)."""
    key: str
    """Upper-cased text of a :data:`WORD` (for keyword tests), else the text."""
    start: int
    end: int

    @property
    def value(self) -> str:
        """The identifier a :data:`WORD` or :data:`QUOTED` token names."""
        if self.type == QUOTED:
            return self.text[1:-1].replace("``", "`")
        return self.text


class Lexed(NamedTuple):
    """Tokens of a whole SQL string, and whether it ended in a lexical error."""

    tokens: list[Token]
    error: bool
    """An unterminated string, identifier or comment: the rest is unreadable."""


# Each match is optional whitespace and then one token (or comment), so that
# whitespace costs no match of its own; the alternatives are ordered by how
# often they occur, with the longer forms of "/", "*", "-" and "." first.
_PATTERN = re.compile(
    r"""
    \s*(?:
      (?P<word>@{0,2}[A-Za-z_$\u0080-\uffff][\w$\u0080-\uffff]*)
    | (?P<punct>[(),=;<>+!|&^~:@{}\[\]])
    | (?P<param>%\(\w+\)s | %s | %% | \?)
    | (?P<quoted>`(?:[^`]|``)*`)
    | (?P<string>'(?:[^'\\]|\\.|'')*' | "(?:[^"\\]|\\.|"")*")
    | (?P<number>(?:\d+\.\d*|\.\d+)(?:[eE][-+]?\d+)? | \d+[eE][-+]?\d+)
    | (?P<digits>\d[\w$\u0080-\uffff]*)
    | (?P<xopen>/\*M?!\d*)
    | (?P<comment>/\*.*?\*/ | --(?=[\s\x00-\x1f]|$)[^\n]* | \#[^\n]*)
    | (?P<xclose>\*/)
    | (?P<error>['"`] | /\*)
    | (?P<other>\S)
    )
    """,
    re.VERBOSE | re.DOTALL,
)
_new = tuple.__new__


def tokenize(sql: str) -> Lexed:
    """Split ``sql`` into tokens, without comments and with placeholders normalised.

    ``*/`` closes an executable comment when one is open; elsewhere it is the
    operator ``*`` followed by whatever ``/`` starts (an operator or a comment).
    """
    tokens: list[Token] = []
    append = tokens.append
    in_exec = False
    match = _PATTERN.match
    pos = 0
    while (m := match(sql, pos)) is not None:
        group = m.lastgroup
        pos = m.end()
        if group is None or group == "comment":
            continue
        text = m.group(group)
        start = m.start(group)
        if group == "word" or group == "digits":
            append(_new(Token, (WORD, text, text.upper(), start, pos)))
        elif group == "punct" or group == "other":
            append(_new(Token, (PUNCT, text, text, start, pos)))
        elif group == "param":
            norm = "%" if text == "%%" else "?"
            append(_new(Token, (PARAM, norm, norm, start, pos)))
        elif group == "xopen":
            in_exec = True
        elif group == "xclose":
            if in_exec:
                in_exec = False
            else:  # a multiplication: lex again from the "/", which may open a comment
                append(_new(Token, (PUNCT, "*", "*", start, start + 1)))
                pos = start + 1
        elif group == "error":
            return Lexed(tokens, True)
        else:  # string, quoted, number
            append(_new(Token, (group, text, text, start, pos)))
    return Lexed(tokens, in_exec)


# Words that open a block closed by END inside a compound statement.
_BLOCK_OPENERS = frozenset({"BEGIN", "CASE", "IF", "LOOP", "WHILE", "REPEAT", "FOR"})
# Tokens after which a compound statement's body starts a new statement.
_STATEMENT_START = frozenset({";", "BEGIN", "THEN", "ELSE", "DO", "LOOP", "REPEAT", ":"})
# Stored programs whose body may hold statements separated by ";".
_ROUTINES = frozenset({"PROCEDURE", "FUNCTION", "TRIGGER", "EVENT", "PACKAGE"})
# Object words that settle that a CREATE/ALTER is not of a stored program.
_NOT_ROUTINES = frozenset({"TABLE", "VIEW", "INDEX", "DATABASE", "SCHEMA", "SEQUENCE", "USER", "("})


def _is_compound(tokens: list[Token], start: int, end: int) -> bool:
    """True when the statement at ``start`` may contain ``;`` inside a body.

    That is ``CREATE``/``ALTER`` of a stored program, an anonymous block
    (``BEGIN NOT ATOMIC``), or a compound statement run directly (``IF``,
    ``CASE``, ``LOOP``, ``WHILE``, ``REPEAT``, ``FOR`` or a label), which
    MariaDB accepts outside stored programs.
    """
    first = tokens[start].key
    if first in ("CREATE", "ALTER"):
        for tok in tokens[start + 1 : min(end, start + 16)]:
            if tok.key in _ROUTINES:
                return True
            if tok.key in _NOT_ROUTINES:
                return False
        return False
    if first == "BEGIN":
        return start + 1 < end and tokens[start + 1].key == "NOT"
    if first in ("IF", "CASE", "LOOP", "WHILE", "REPEAT", "FOR"):
        return True
    return start + 1 < end and tokens[start].type == WORD and tokens[start + 1].key == ":"


def _opens_block(tokens: list[Token], i: int, first: int) -> bool:
    """Whether ``tokens[i]``, a block-opening word, opens a block closed by END."""
    key = tokens[i].key
    prev = tokens[i - 1].key if i > first else ";"
    if prev == "END":  # END IF, END CASE, END LOOP ...
        return False
    nxt = tokens[i + 1].key if i + 1 < len(tokens) else ""
    if key in ("BEGIN", "CASE", "LOOP", "WHILE"):
        return True
    if key in ("IF", "REPEAT") and nxt == "(":  # the IF() and REPEAT() functions
        return False
    # IF and FOR also appear in IF [NOT] EXISTS, FOR UPDATE, FOR EACH ROW.
    return prev in _STATEMENT_START or key == "REPEAT"


def split_statements(tokens: list[Token]) -> list[tuple[int, int]]:
    """Token ranges ``[start, end)`` of the statements, without the ``;``.

    Empty statements (``;;``, a trailing ``;``) are left out.
    """
    spans: list[tuple[int, int]] = []
    n = len(tokens)
    start = 0
    while start < n:
        end = start
        while end < n and tokens[end].key != ";":
            end += 1
        if end > start and end < n and _is_compound(tokens, start, n):
            end = _compound_end(tokens, start)
        if end > start:
            spans.append((start, end))
        start = end + 1
    return spans


def _compound_end(tokens: list[Token], start: int) -> int:
    """Index of the ``;`` (or the end) that closes a compound statement."""
    depth = 0
    for i in range(start, len(tokens)):
        tok = tokens[i]
        if tok.type != WORD and tok.key != ";":
            continue
        key = tok.key
        if key == ";":
            if depth <= 0:
                return i
        elif key == "END":
            depth -= 1
        elif key in _BLOCK_OPENERS and _opens_block(tokens, i, start):
            depth += 1
    return len(tokens)


def sql_text(tokens: list[Token], start: int, end: int) -> str:
    """Text of ``tokens[start:end]`` as sqlglot should read it.

    Tokens keep their source spelling; every gap (whitespace, comments,
    executable-comment markers) becomes one space, and placeholders become
    ``?``. Adjacent tokens stay adjacent, so ``1.5`` and ``db.t`` survive.
    """
    parts: list[str] = []
    prev_end = -1
    for tok in tokens[start:end]:
        if prev_end >= 0 and tok.start > prev_end:
            parts.append(" ")
        parts.append(tok.text)
        prev_end = tok.end
    return "".join(parts)
