"""The ``bhyt`` command: assembles each domain's commands. Holds no business rules."""

from __future__ import annotations

from typing import Annotated

import typer

from bhyt import __version__, demo
from bhyt.assessment.commands import assess_cmd, rules_app
from bhyt.claims.commands import export, ingest
from bhyt.console import console
from bhyt.db.commands import open_database
from bhyt.fraud.commands import detect_cmd
from bhyt.policy import commands as policy_commands
from bhyt.registry import commands as registry_commands
from bhyt.security.commands import audit, token
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
app.command("detect")(detect_cmd)
app.add_typer(registry_commands.app, name="registry")
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
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
) -> None:
    """Serve the HTTP API (OpenAPI at /docs): card checks, the registry, claims. Needs BHYT_TOKEN_SECRET."""
    import uvicorn

    from bhyt.api.app import create_app
    from bhyt.api.settings import Settings, SettingsError

    err = console(stderr=True)
    try:
        settings = Settings.from_env(db_url=db)
    except SettingsError as exc:
        err.print(f"[red]error:[/red] {exc} (e.g. export BHYT_TOKEN_SECRET=$(openssl rand -hex 32))")
        raise typer.Exit(2) from None
    engine = open_database(settings.db_url, err)
    uvicorn.run(create_app(engine, settings), host=host, port=port, log_level="warning")


@app.command()
def version() -> None:
    """Print the version."""
    print(__version__)


def main() -> None:
    app()
