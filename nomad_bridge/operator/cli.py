"""Running one `nomad-bridge jobs` command: settings, the Nomad client, errors to exit codes.

Exit codes: 0 done; 1 Nomad refused or failed, or the operation did not finish; 2 usage
(bad arguments or NOMAD_*/BRIDGE_* settings, or `forget` without `--yes`); 3 no such job.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from pydantic import ValidationError

from nomad_bridge.jobs.catalog import JobCatalog
from nomad_bridge.jobs.definitions import DefinitionStore
from nomad_bridge.logs import record_fields
from nomad_bridge.nomad.settings import NomadSettings
from nomad_bridge.operator import commands, importing
from nomad_bridge.operator.connect import connect, display_address
from nomad_bridge.operator.errors import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    FAILURES,
    UsageError,
    exit_code,
    message,
)
from nomad_bridge.operator.nomad_api import PythonNomad
from nomad_bridge.settings import BridgeSettings


def _settings_error(error: ValidationError, prefix: str) -> UsageError:
    """Which variable is wrong and why; never the value (it may be a token)."""
    problems = [
        f"{prefix}{'_'.join(str(part) for part in e['loc']).upper()}: {e['msg']}"
        for e in error.errors()
    ]
    return UsageError("; ".join(problems))


def _context() -> commands.Context:
    try:
        bridge = BridgeSettings()
    except ValidationError as err:
        raise _settings_error(err, "BRIDGE_") from None
    except OSError as err:
        raise UsageError(f"BRIDGE_TOKENS_FILE: {err.strerror or err}") from None
    try:
        settings = NomadSettings()
    except ValidationError as err:
        raise _settings_error(err, "NOMAD_") from None
    api = connect(settings, timeout_s=bridge.nomad_timeout_s)
    token = settings.token.get_secret_value() if settings.token is not None else None
    nomad_api = PythonNomad(api, display_address(settings), token)
    definitions = DefinitionStore(nomad_api, bridge.definitions_prefix)
    return commands.Context(
        nomad=nomad_api,
        catalog=JobCatalog(nomad_api, definitions),
        definitions=definitions,
        keys=bridge.flag_keys,
        namespace=settings.namespace,
    )


async def _run(args: argparse.Namespace) -> int:
    ctx = _context()
    match args.jobs_command:
        case "ls":
            return await commands.list_jobs(ctx, as_json=args.json)
        case "flags":
            return await commands.set_flags(ctx, args.job, args.assignments)
        case "import":
            return await importing.import_dir(ctx, args.directory, args.flags)
        case "save-definitions":
            return await commands.save_definitions(ctx)
        case "forget":
            return await commands.forget(ctx, args.job, yes=args.yes)
    raise AssertionError(f"unhandled jobs command {args.jobs_command!r}")


class _StderrWarnings(logging.Handler):
    """The shared rules' warnings (an unreadable saved definition, ...) as CLI lines."""

    def emit(self, record: logging.LogRecord) -> None:
        fields = ", ".join(f"{key}={value!r}" for key, value in record_fields(record).items())
        commands.warn(f"{record.getMessage()} ({fields})" if fields else record.getMessage())


@contextmanager
def _warnings_on_stderr() -> Iterator[None]:
    logger = logging.getLogger("nomad_bridge")
    handler = _StderrWarnings(logging.WARNING)
    logger.addHandler(handler)
    propagate, logger.propagate = logger.propagate, False
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.propagate = propagate


def run_jobs(args: argparse.Namespace) -> int:
    """Run the parsed `jobs` command; errors are printed on stderr as one line."""
    try:
        with _warnings_on_stderr():
            return asyncio.run(_run(args))
    except FAILURES as err:
        commands.warn(message(err))
        return exit_code(err)
    except KeyboardInterrupt:
        commands.warn("interrupted")
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # Output piped into `head` and the like: stop quietly, and let the interpreter's
        # final flush write into the void rather than fail again.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_FAILED
