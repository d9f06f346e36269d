"""The ``bhyt`` command: assembles each domain's commands, and prints any BHYT error once (its code
and message, no traceback) with an exit code a script can trust: 2 for bad input or usage, 1 for
work that ran and failed. Holds no business rules."""

from __future__ import annotations

import logging
import sys
from typing import Annotated, Any

import typer
from rich.markup import escape
from typer.core import TyperGroup

from bhyt import __version__
from bhyt.cli import demo, policy, registry
from bhyt.cli.assessment import assess_cmd, rules_app
from bhyt.cli.claims import export, ingest
from bhyt.cli.common import open_database, settings
from bhyt.cli.console import console
from bhyt.cli.fraud import detect_app
from bhyt.cli.security import audit, token
from bhyt.cli.synth import synth
from bhyt.errors import BhytError


class _Root(TyperGroup):
    """The root command: a BhytError from any command is printed once, as ``error [code] message``,
    and exits with its code; no traceback."""

    def invoke(self, ctx: Any) -> Any:  # typer's own click Context
        try:
            return super().invoke(ctx)
        except BhytError as exc:
            console(stderr=True).print(f"[red]error[/red] {escape(f'[{exc.code}] {exc}')}", highlight=False)
            raise typer.Exit(exc.exit_code) from None


app = typer.Typer(
    cls=_Root,
    help="BHYT: a national social health insurance scheme, end to end.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(policy.app, name="policy", help="Policy parameters and payment rules as code.")
app.command("synth")(synth)
app.command("ingest")(ingest)
app.command("export")(export)
app.add_typer(rules_app, name="rules")
app.command("assess")(assess_cmd)
app.add_typer(detect_app, name="detect")
app.add_typer(registry.app, name="registry")
app.command("token")(token)
app.command("audit")(audit)


@app.command("demo")
def demo_cmd() -> None:
    """Run the main job on embedded defaults and print what it found."""
    demo.run(console())


@app.command()
def serve(
    db: Annotated[
        str | None, typer.Option(help="Database URL (default BHYT_DB_URL or sqlite:///bhyt.db); migrated.")
    ] = None,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=0, max=65535, help="Port to listen on.")] = 8000,
) -> None:
    """Serve the HTTP API (OpenAPI at /docs): card checks, the registry, claims. Needs BHYT_TOKEN_SECRET.

    Logs where it listens and one line per request (method, path, status, time, token subject; never
    a query string or personal data) on stderr."""
    import uvicorn

    from bhyt.api.app import create_app

    config = settings(db)
    config.secret()  # refuse to start without it, before opening anything
    engine = open_database(config.db_url, create=True)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s", stream=sys.stderr)
    logging.getLogger("bhyt.serve").info("listening on http://%s:%d (database %s)", host, port, engine.url)
    uvicorn.run(create_app(engine, config), host=host, port=port, log_level="warning")


@app.command()
def version() -> None:
    """Print the version."""
    print(__version__)


def main() -> None:
    """The console script."""
    app()
