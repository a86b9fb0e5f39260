"""Administrative operations behind the ``mdbc`` CLI (init, status ...)."""
