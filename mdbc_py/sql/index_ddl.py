"""Does a DDL statement change only indexes and foreign keys of a table?

After a DDL statement runs, the front end (and replay at every other site)
regenerates the capture of each table it named: the shadow table mirrors the
columns and the triggers copy them, so a changed column must change both.
An index or a foreign key changes neither, and regenerating costs a look at
``information_schema`` per table (tens of milliseconds): Camunda's schema
script alone is about 250 such statements. So such statements skip it.

Only statements read with certainty say yes: ``CREATE [UNIQUE|FULLTEXT|
SPATIAL] INDEX``, ``DROP INDEX``, and ``ALTER TABLE`` whose every action
adds or drops an index, a key or a foreign key (never the primary key).
Anything else, including an action this module does not know, says no and
capture is regenerated as before.
"""

from __future__ import annotations

from mdbc_py.sql.lexer import PUNCT, WORD, Token, tokenize

__all__ = ["changes_only_indexes"]

_INDEX_KINDS = frozenset({"UNIQUE", "FULLTEXT", "SPATIAL"})
_INDEX_WORDS = frozenset({"INDEX", "KEY"})


def _words(tokens: list[Token]) -> list[str]:
    return [t.key if t.type == WORD else t.text for t in tokens]


def _actions(tokens: list[Token]) -> list[list[str]]:
    """The comma-separated actions of an ALTER TABLE, as words (parentheses kept whole)."""
    actions: list[list[str]] = [[]]
    depth = 0
    for token in tokens:
        text = token.text
        if token.type == PUNCT and text == "(":
            depth += 1
        elif token.type == PUNCT and text == ")":
            depth -= 1
        elif token.type == PUNCT and text == "," and depth == 0:
            actions.append([])
            continue
        actions[-1].append(token.key if token.type == WORD else text)
    return actions


def _index_action(words: list[str]) -> bool:
    """One ALTER TABLE action that adds or drops an index, a key or a foreign key."""
    if len(words) < 2:
        return False
    verb, rest = words[0], words[1:]
    if verb == "ADD":
        if rest[0] == "CONSTRAINT":  # ADD CONSTRAINT [name] UNIQUE | FOREIGN KEY ...
            rest = rest[1:] if rest[1:2] in (["UNIQUE"], ["FOREIGN"]) else rest[2:]
        if not rest or "PRIMARY" in rest[:2]:
            return False
        return rest[0] in _INDEX_WORDS | _INDEX_KINDS or rest[:2] == ["FOREIGN", "KEY"]
    if verb == "DROP":
        return rest[0] in _INDEX_WORDS or rest[:2] == ["FOREIGN", "KEY"]
    return False


def changes_only_indexes(sql: str) -> bool:
    """True if ``sql`` surely changes only indexes or foreign keys (see module docstring)."""
    tokens = [t for t in tokenize(sql).tokens if not (t.type == PUNCT and t.text == ";")]
    words = _words(tokens[:4])
    if not words:
        return False
    if words[0] == "CREATE":
        rest = words[1:]
        if rest[:2] == ["OR", "REPLACE"]:
            rest = rest[2:]
        if rest[:1] and rest[0] in _INDEX_KINDS:
            rest = rest[1:]
        return rest[:1] == ["INDEX"]
    if words[0] == "DROP":
        return words[1:2] == ["INDEX"] and len(tokens) > 2
    if words[0] == "ALTER":
        start = 1
        if words[1:2] in (["ONLINE"], ["IGNORE"]):
            start = 2
        if _words(tokens[start : start + 1]) != ["TABLE"]:
            return False
        name_end = start + 2  # TABLE <name>; a qualified name is three tokens
        if name_end < len(tokens) and tokens[name_end].text == ".":
            name_end += 2
        actions = _actions(tokens[name_end:])
        return bool(actions) and all(_index_action(a) for a in actions)
    return False
