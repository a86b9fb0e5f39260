"""SQLAlchemy's own dialect test suite, run through ``mysql+mdbc`` and ``mysql+pymysql``.

``harness`` writes the folder the SQLAlchemy pytest plugin needs, runs the
suite in a subprocess per driver and compares the JUnit results;
``requirements`` says which optional features MariaDB has.
"""
