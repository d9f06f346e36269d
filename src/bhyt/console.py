"""Terminal output: Rich on a terminal; wide, unwrapped lines when piped, so scripts can grep them."""

from __future__ import annotations

from rich.console import Console

PIPED_WIDTH = 240


def console(stderr: bool = False) -> Console:
    """A console for one command; created per call so it sees the streams in use at that moment."""
    c = Console(stderr=stderr, soft_wrap=True)
    if not c.is_terminal:
        c.width = PIPED_WIDTH
    return c
