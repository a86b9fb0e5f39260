"""Capture: the row changes of a transaction, staged by triggers, read on commit.

Every captured table ``t`` gets a *shadow table* ``mdbc_s_<t>`` in the same
database, with the same column types, charsets and collations, and three
AFTER triggers (``mdbc_ai_<t>``, ``mdbc_au_<t>``, ``mdbc_ad_<t>``) that copy
``NEW.*`` (insert, update) or ``OLD.*`` (delete), plus the old primary key,
into it. Values are copied column to column, never encoded, so a captured
image is exactly what a ``SELECT`` of the row returns: BIT, BLOB, latin1
text, doubles, DECIMAL(65,30), fractional times all survive. The shadow is
InnoDB, so staged rows live and die with the writer's transaction.

On commit the driver calls :func:`collect` in the open transaction, right
before committing: it reads and deletes this connection's staged rows and
returns them as :class:`~mdbc_py.log.model.RowChange` in write order. The
triggers keep a per-session list of the tables they staged into
(``@mdbc_dirty``), so ``collect`` finds every staged row even for statements
the driver could not classify (``CALL``, unparsed SQL), and costs one round
trip when nothing was written.

Modules: ``naming`` (object and variable names), ``schema`` (reading table
definitions), ``sqlgen`` (all generated SQL, pure), ``inventory`` (which
capture objects exist), ``install`` and ``collect``.

What is and is not captured:

- Replay sessions set ``@mdbc_replay``; the triggers then stage nothing.
- Rows deleted or changed by a foreign key's ``ON DELETE/UPDATE CASCADE``
  fire no trigger in MariaDB and are not staged: replay reproduces them by
  applying the parent's change with foreign keys on, in the owner's order.
- Generated (VIRTUAL/STORED) columns are left out of images: replay cannot
  write them and the replica computes them. INVISIBLE columns are included.
- Tables without a primary key are refused (:class:`NoPrimaryKeyError`);
  tables named ``mdbc_*``, views and sequences are never captured;
  system-versioned tables and columns named ``mdbc_*`` are refused.
- Triggers fire for every writer; rows that a writer bypassing the driver
  committed stay in the shadow and are reported by :func:`out_of_band`.
- After a DDL the triggers must be regenerated (:func:`install_table`):
  until then an added column is missing from images, and a dropped or
  renamed column makes every write to the table fail.
"""

from __future__ import annotations

from mdbc_py.capture.collect import changes_from_rows, collect, out_of_band
from mdbc_py.capture.errors import (
    CaptureError,
    CaptureStateError,
    NoPrimaryKeyError,
    StagedRowsError,
    UnsupportedTableError,
)
from mdbc_py.capture.install import (
    captured_tables,
    install_database,
    install_table,
    remove_table,
    uninstall_database,
)
from mdbc_py.capture.naming import shadow_name, trigger_name

__all__ = [
    "CaptureError",
    "CaptureStateError",
    "NoPrimaryKeyError",
    "StagedRowsError",
    "UnsupportedTableError",
    "captured_tables",
    "changes_from_rows",
    "collect",
    "install_database",
    "install_table",
    "out_of_band",
    "remove_table",
    "shadow_name",
    "trigger_name",
    "uninstall_database",
]
