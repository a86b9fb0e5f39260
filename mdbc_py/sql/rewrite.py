"""Token rewrites that let sqlglot read MariaDB DML and queries correctly.

sqlglot's MySQL dialect gets several MariaDB forms wrong, some of them
silently, which is worse than failing:

- ``UPDATE LOW_PRIORITY t SET ...`` and ``DELETE QUICK FROM t`` parse with
  ``low_priority`` / ``quick`` as the *table written*;
- ``INSERT LOW_PRIORITY|DELAYED|HIGH_PRIORITY``, ``UPDATE IGNORE``, ``DELETE
  IGNORE`` and ``REPLACE`` do not parse (``REPLACE`` becomes an opaque
  command);
- ``DELETE t.* FROM ...`` and ``NEXT VALUE FOR s`` do not parse.

None of the rewrites changes which tables a statement reads or writes:
priority and ``IGNORE`` modifiers only change locking and error handling,
``REPLACE`` has ``INSERT``'s grammar, ``t.*`` names the same table as ``t``,
and ``NEXTVAL(s)`` is MariaDB's other spelling of ``NEXT VALUE FOR s``.
"""

from __future__ import annotations

from mdbc_py.sql.lexer import PUNCT, WORD, Token, sql_text
from mdbc_py.sql.scan import find_word, read_name

__all__ = ["for_sqlglot"]

_MODIFIERS = frozenset({"LOW_PRIORITY", "DELAYED", "HIGH_PRIORITY", "QUICK", "IGNORE"})


def _synthetic(kind: str, text: str, at: int) -> Token:
    """A token that was not in the source, placed (for spacing) at offset ``at``."""
    return Token(kind, text, text, at, at + len(text))


def _dml_head(parts: list[Token]) -> list[Token]:
    """REPLACE as INSERT; priority and IGNORE modifiers dropped."""
    first = parts[0]
    if first.key not in ("INSERT", "REPLACE", "UPDATE", "DELETE"):
        return parts
    if first.key == "REPLACE":
        first = _synthetic(WORD, "INSERT", first.start)
    i = 1
    while i < len(parts) and parts[i].type == WORD and parts[i].key in _MODIFIERS:
        i += 1
    return [first, *parts[i:]]


def _without_star_targets(parts: list[Token]) -> list[Token]:
    """``DELETE t1.*, t2.* FROM ...`` as ``DELETE t1, t2 FROM ...``."""
    if parts[0].key != "DELETE":
        return parts
    from_at = find_word(parts, frozenset({"FROM"}), 1, len(parts))
    if from_at is None:
        return parts
    head = [
        tok
        for j, tok in enumerate(parts[:from_at])
        if not (tok.key == "*" or (tok.key == "." and j + 1 < from_at and parts[j + 1].key == "*"))
    ]
    return head + parts[from_at:]


def _sequence_calls(parts: list[Token]) -> list[Token]:
    """``NEXT VALUE FOR s`` as ``NEXTVAL(s)``, ``PREVIOUS VALUE FOR s`` as ``LASTVAL(s)``."""
    if not any(t.key in ("NEXT", "PREVIOUS") for t in parts):
        return parts
    out: list[Token] = []
    i = 0
    while i < len(parts):
        tok = parts[i]
        name = None
        if (
            tok.key in ("NEXT", "PREVIOUS")
            and i + 2 < len(parts)
            and parts[i + 1].key == "VALUE"
            and parts[i + 2].key == "FOR"
        ):
            name = read_name(parts, i + 3, len(parts))
        if name is None:
            out.append(tok)
            i += 1
            continue
        func = _synthetic(WORD, "NEXTVAL" if tok.key == "NEXT" else "LASTVAL", tok.start)
        out.append(func)
        out.append(_synthetic(PUNCT, "(", func.end))
        out.extend(parts[i + 3 : name.next])
        out.append(_synthetic(PUNCT, ")", parts[name.next - 1].end))
        i = name.next
    return out


def for_sqlglot(tokens: list[Token], start: int, end: int) -> str:
    """The text of the statement at ``tokens[start:end]``, rewritten for sqlglot."""
    parts = _sequence_calls(_without_star_targets(_dml_head(tokens[start:end])))
    return sql_text(parts, 0, len(parts))
