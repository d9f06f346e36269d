"""The command line (``bhyt``): one module per domain's commands, assembled in :mod:`bhyt.cli.app`.
An adapter: it imports the domains, nothing imports it."""
