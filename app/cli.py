"""The ``adstudio`` command: serve, migrate, export-schema."""

from __future__ import annotations

import asyncio
import errno
import logging
import signal
import socket
import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Annotated, ParamSpec, TypeVar

import typer
from sqlalchemy.exc import DBAPIError, OperationalError

from app.db import create_engine
from app.errors import SettingsError, StartupError
from app.log import configure_logging
from app.runtime import check_database, database_error_reason
from app.settings import Settings, load_settings

P = ParamSpec("P")
R = TypeVar("R")

cli = typer.Typer(name="adstudio", no_args_is_help=True, add_completion=False)


def fail(message: str, code: int = 2) -> typer.Exit:
    typer.echo(f"adstudio: {message}", err=True)
    return typer.Exit(code)


def one_line_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Turn expected start-up failures into one line on stderr and a non-zero exit."""

    @wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except (SettingsError, StartupError) as exc:
            raise fail(str(exc)) from None
        except (OperationalError, DBAPIError, OSError) as exc:
            raise fail(f"database error: {database_error_reason(exc)}") from None

    return wrapper


def _settings() -> Settings:
    settings = load_settings()
    configure_logging(settings)
    return settings


async def _check_database(settings: Settings) -> None:
    engine = create_engine(settings.resolved_database_url)
    try:
        await check_database(engine, settings.resolved_database_url)
    finally:
        await engine.dispose()


def ensure_port_free(host: str, port: int) -> None:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise StartupError(f"port {port} on {host} is already in use") from None
            raise StartupError(f"cannot listen on {host}:{port}: {exc.strerror}") from None


@cli.command()
@one_line_errors
def serve(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="Server processes.")] = 1,
    reload: Annotated[bool, typer.Option(help="Restart on code changes (development).")] = False,
) -> None:
    """Serve the GraphQL API (and, in the embedded default, run jobs in-process)."""
    import uvicorn

    settings = _settings()
    ensure_port_free(host, port)
    asyncio.run(_check_database(settings))
    uvicorn.run(
        "app.main:create_app_from_env",
        factory=True,
        host=host,
        port=port,
        workers=None if reload else workers,
        reload=reload,
        log_level=settings.log_level.lower(),
        proxy_headers=True,
        lifespan="on",
    )


@cli.command()
@one_line_errors
def migrate(
    revision: Annotated[str, typer.Argument(help="Target revision.")] = "head",
) -> None:
    """Upgrade the database schema (creating a SQLite file on demand)."""
    from app import migrations

    settings = _settings()
    logging.getLogger("alembic.runtime.migration").setLevel(logging.INFO)
    asyncio.run(_check_database(settings))
    migrations.upgrade(settings.resolved_database_url, revision)
    typer.echo(f"database at {revision}")


@cli.command()
@one_line_errors
def worker() -> None:
    """Run the durable engine only: execute queued generations and jobs (no HTTP)."""
    settings = _settings()
    asyncio.run(_run_worker(settings))


async def _run_worker(settings: Settings) -> None:
    from app.engine.dbos_engine import Engine
    from app.runtime import open_runtime

    runtime = await open_runtime(settings.model_copy(update={"execute_work": True}))
    engine = Engine(runtime)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await engine.start()
        runtime.work = engine
        typer.echo(f"adstudio worker {settings.executor_id} running", err=True)
        await stop.wait()
    finally:
        await engine.stop()
        await runtime.close()


jobs = typer.Typer(help="Work with ad-video jobs.", no_args_is_help=True)
cli.add_typer(jobs, name="jobs")


@jobs.command("watch")
def watch_job(
    job_id: Annotated[str, typer.Argument(help="The job's ID.")],
    url: Annotated[str, typer.Option(help="The server.")] = "http://127.0.0.1:8000",
    token: Annotated[
        str, typer.Option(envvar="ADSTUDIO_TOKEN", help="An access token or API key.")
    ] = "",
) -> None:
    """Show a job's progress live until it ends (exit 0 when it COMPLETED)."""
    from app.watch import watch

    try:
        status = asyncio.run(watch(url, token, job_id))
    except (OSError, RuntimeError) as exc:
        raise fail(str(exc)) from None
    raise typer.Exit(0 if status == "COMPLETED" else 1)


@cli.command("export-schema")
def export_schema_command(
    output: Annotated[
        Path, typer.Option("--output", "-o", help="File to write; '-' for standard output.")
    ] = Path("schema.graphql"),
) -> None:
    """Write the GraphQL schema (SDL) exported from the code."""
    from app.schema import export_schema

    sdl = export_schema()
    if str(output) == "-":
        sys.stdout.write(sdl)
        return
    output.write_text(sdl)
    typer.echo(f"wrote {output}")


def main() -> None:
    cli()
