"""The HTTP interface: routers per domain (``claims``, ``registry``) over one plumbing module
(``http``: tokens, purpose, problem documents), assembled in ``app``. An adapter."""
