"""The ``bhyt`` command: assembles each domain's commands. Holds no business rules."""

from __future__ import annotations

from typing import Annotated

import typer

from bhyt import __version__, demo
from bhyt.assessment.commands import assess_cmd, rules_app
from bhyt.claims.commands import export, ingest
from bhyt.console import console
from bhyt.db import DEFAULT_URL, connect
from bhyt.policy import commands as policy_commands
from bhyt.synth.commands import synth

app = typer.Typer(
    help="BHYT: a national social health insurance scheme, end to end.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(policy_commands.app, name="policy", help="Policy parameters and payment rules as code.")
app.command("synth")(synth)
app.command("ingest")(ingest)
app.command("export")(export)
app.add_typer(rules_app, name="rules")
app.command("assess")(assess_cmd)


@app.command("demo")
def demo_cmd() -> None:
    """Run the main job on embedded defaults and print what it found."""
    demo.run(console())


@app.command()
def serve(
    db: Annotated[str, typer.Option(help="Database URL; created and migrated when new.")] = DEFAULT_URL,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
) -> None:
    """Serve the HTTP API (OpenAPI at /docs): POST /claims and the stored claims."""
    import uvicorn

    from bhyt.api.app import create_app

    uvicorn.run(create_app(connect(db)), host=host, port=port)


@app.command()
def version() -> None:
    """Print the version."""
    print(__version__)


def main() -> None:
    app()
