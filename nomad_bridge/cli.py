"""The `nomad-bridge` command line: one entry point, one subcommand per way of running."""

from __future__ import annotations

import argparse
import logging
from collections.abc import Sequence
from pathlib import Path

DEFAULT_SEED_DIR = Path("deploy/jobs")


def _add_bind_arguments(parser: argparse.ArgumentParser, *, default_port: int) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default %(default)s)")
    parser.add_argument(
        "--port", type=int, default=default_port, help="port to bind (default %(default)s)"
    )


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="nomad-bridge",
        description="The Cluster API jobs endpoints in front of a HashiCorp Nomad cluster.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = commands.add_parser(
        "serve",
        help="serve the Cluster API in front of the Nomad named by NOMAD_ADDR",
        description="Serve the Cluster API jobs endpoints in front of Nomad. Nomad is found "
        "through the standard NOMAD_* environment; bridge settings use BRIDGE_*.",
    )
    _add_bind_arguments(serve, default_port=8080)
    serve.add_argument(
        "--sim",
        action="store_true",
        help="run against the embedded Nomad simulator, seeded with the example jobs",
    )
    serve.add_argument(
        "--seed",
        type=Path,
        default=DEFAULT_SEED_DIR,
        metavar="DIR",
        help="with --sim: the job files to seed the simulator with (default %(default)s)",
    )

    sim = commands.add_parser(
        "sim",
        help="run the Nomad simulator alone, as a Nomad HTTP API server",
        description="Serve the embedded Nomad simulator: a test and demo double of Nomad's "
        "HTTP API that ordinary Nomad clients (python-nomad, curl) can use.",
    )
    _add_bind_arguments(sim, default_port=4646)
    sim.add_argument(
        "--seed",
        type=Path,
        default=None,
        metavar="DIR",
        help='register every Nomad JSON job file ({"Job": ...}) found in DIR at start-up',
    )
    sim.add_argument(
        "--unix",
        type=Path,
        default=None,
        metavar="PATH",
        help="listen on this unix socket instead of --host/--port "
        "(NOMAD_ADDR=unix:///PATH, as a task reaches Nomad's Task API)",
    )
    sim.add_argument(
        "--acl-token",
        default=None,
        metavar="TOKEN",
        help="require this X-Nomad-Token on every request (ACLs enabled)",
    )

    from nomad_bridge.operator.parser import add_jobs_parser

    add_jobs_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run a command; returns its exit code (argparse's own: 0 for --help, 2 for bad usage)."""
    try:
        args = _build_parser().parse_args(argv)
    except SystemExit as exit_:
        return exit_.code if isinstance(exit_.code, int) else 0 if exit_.code is None else 2
    if args.command == "jobs":
        from nomad_bridge.operator.cli import run_jobs

        return run_jobs(args)
    from nomad_bridge.logs import configure_logging
    from nomad_bridge.settings import BridgeSettings

    settings = BridgeSettings()
    log_writer = configure_logging(settings.log_level)
    if args.command == "serve":
        from nomad_bridge.nomad import NomadSettings
        from nomad_bridge.serve import EventLoopUnavailable, run_on_event_loop, serve

        try:
            run_on_event_loop(
                settings.event_loop,
                serve(
                    settings,
                    NomadSettings(),
                    host=args.host,
                    port=args.port,
                    embedded_sim=args.sim,
                    sim_seed_dir=args.seed if args.seed.is_dir() else None,
                ),
            )
        except EventLoopUnavailable as error:
            log = logging.getLogger(__name__)
            log.error("event_loop_unavailable", extra={"detail": str(error)})
            return 2
        finally:
            log_writer.stop()  # every line still queued is written before exit
        return 0
    if args.command == "sim":
        from nomad_bridge.sim import SimConfig, run

        run(
            SimConfig(acl_token=args.acl_token),
            host=args.host,
            port=args.port,
            seed_dir=args.seed,
            unix=args.unix.absolute() if args.unix is not None else None,
        )
        return 0
    raise AssertionError(f"unhandled command {args.command!r}")
