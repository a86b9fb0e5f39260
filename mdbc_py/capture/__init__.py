"""Capture: the row changes of a transaction, staged by triggers, read on commit.

Every captured table ``db.t`` gets three AFTER triggers on it (``mdbc_ai_<t>``,
``mdbc_au_<t>``, ``mdbc_ad_<t>``; MariaDB keeps triggers in the table's
database) and a *shadow table* ``mdbc_s_<t>`` with the same column types,
charsets and collations, which lives in a separate *stage database*
``mdbc_stage_<db>`` (:func:`stage_database`; shortened with a hash when
longer than 64 characters). The triggers copy ``NEW.*`` (insert, update) or
``OLD.*`` (delete), plus the old primary key, into the shadow. Values are
copied column to column, never encoded, so a captured image is exactly what
a ``SELECT`` of the row returns: BIT, BLOB, latin1 text, doubles,
DECIMAL(65,30), fractional times all survive. The shadow is InnoDB, so
staged rows live and die with the writer's transaction.

Keeping the shadows out of the application's database means ``SHOW TABLES``,
ORM reflection (SQLAlchemy ``metadata.reflect()``) and migration tools
(Alembic autogenerate) see only the application's tables. An install moves
shadows that older versions created inside the application's database (see
``install``); an out-of-band row in such a shadow makes it refuse first.

Privileges. The triggers run with the rights of their DEFINER (the account
that installed them), so accounts that write around the driver need no
privilege on the stage databases. The driver's account reads and deletes its
session's staged rows on commit, as itself: it needs ``SELECT, DELETE`` on
``mdbc_stage_%``. The account that installs the capture (``mdbc init``,
resync, and the driver's account too, since it recaptures after a DDL it
runs) also needs ``CREATE, DROP, ALTER, INSERT, LOCK TABLES`` there, and
``TRIGGER`` on the application's databases::

    GRANT SELECT, INSERT, DELETE, CREATE, DROP, ALTER, LOCK TABLES
      ON `mdbc_stage_%`.* TO 'app'@'%';

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
- ``DROP DATABASE`` through the driver also removes the stage database
  (``core.apply.recapture``), unless out-of-band rows wait in it.
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
from mdbc_py.capture.naming import shadow_name, stage_database, trigger_name

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
    "stage_database",
    "trigger_name",
    "uninstall_database",
]
