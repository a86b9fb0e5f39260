"""The MUSIC store backend on Apache Cassandra (production, multi-site)."""

from mdbc_py.music.cassandra.store import CassandraStore

__all__ = ["CassandraStore"]
