"""The commit core: what both front ends and replay share.

- :mod:`~mdbc_py.core.positions`: the applied position of a site, kept in
  the site's own MariaDB in the same transaction as the data it covers;
- :mod:`~mdbc_py.core.apply`: applying one log entry (row images or DDL)
  exactly once, and regenerating capture after DDL;
- :mod:`~mdbc_py.core.commit`: the commit path itself: staged rows, log
  entry, durable append, local commit, and the repair of a failed COMMIT.

Dependencies point one way: ``driver/`` (and the proxy) and
``replication/`` import this package; it imports neither of them.
"""
