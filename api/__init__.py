"""What people use: the web view (FastAPI pages and JSON), pyvis maps, the Cypher console and
the ``maillage`` command line."""

__all__: list[str] = []
