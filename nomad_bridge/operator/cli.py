"""Running one `nomad-bridge jobs` command: settings, the Nomad client, errors to exit codes.

Exit codes: 0 done; 1 Nomad refused or failed, or the operation did not finish; 2 usage
(bad arguments or NOMAD_*/BRIDGE_* settings, or `forget` without `--yes`); 3 no such job.
"""

from __future__ import annotations

import argparse
import os
import sys

from pydantic import ValidationError

from nomad_bridge.jobs.view import FlagKeys
from nomad_bridge.nomad.settings import NomadSettings
from nomad_bridge.operator import commands, importing
from nomad_bridge.operator.cluster import Cluster
from nomad_bridge.operator.connect import connect, display_address
from nomad_bridge.operator.errors import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    OperatorError,
    UsageError,
)
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
    return commands.Context(
        cluster=Cluster(api, display_address(settings)),
        keys=FlagKeys(autostart=bridge.autostart_key, by_cluster=bridge.bycluster_key),
        prefix=bridge.definitions_prefix,
        namespace=settings.namespace,
    )


def run_jobs(args: argparse.Namespace) -> int:
    """Run the parsed `jobs` command; errors are printed on stderr as one line."""
    try:
        ctx = _context()
        match args.jobs_command:
            case "ls":
                return commands.list_jobs(ctx, as_json=args.json)
            case "flags":
                return commands.set_flags(ctx, args.job, args.assignments)
            case "import":
                return importing.import_dir(ctx, args.directory, args.flags)
            case "save-definitions":
                return commands.save_definitions(ctx)
            case "forget":
                return commands.forget(ctx, args.job, yes=args.yes)
        raise AssertionError(f"unhandled jobs command {args.jobs_command!r}")
    except OperatorError as err:
        commands.warn(str(err))
        return err.exit_code
    except KeyboardInterrupt:
        commands.warn("interrupted")
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # Output piped into `head` and the like: stop quietly, and let the interpreter's
        # final flush write into the void rather than fail again.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_FAILED
