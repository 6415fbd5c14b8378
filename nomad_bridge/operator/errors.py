"""What can go wrong in an operator command, and the exit code each failure means.

    OperatorError            exit 1: the operation did not finish
     └── UsageError          exit 2: the command line or the environment is wrong
    NomadError               exit 1: Nomad refused or failed (`nomad_bridge.nomad.errors`)
    BridgeError              exit 1: a rule of the bridge refused (`nomad_bridge.jobs.errors`)
     └── JobNotFound         exit 3: no such job (in Nomad, nor as a saved definition)

Exit codes are looked up by class along the MRO, as the API looks up statuses. Messages are
for stderr: they never carry the ACL token.
"""

from __future__ import annotations

from nomad_bridge.jobs.errors import BridgeError, JobNotFound
from nomad_bridge.nomad.errors import NomadError

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_NOT_FOUND = 3
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report it


class OperatorError(Exception):
    """A failure of the command itself, to report on stderr."""


class UsageError(OperatorError):
    """The command line, or the NOMAD_*/BRIDGE_* environment, cannot be used."""


FAILURES = (OperatorError, NomadError, BridgeError)
EXIT_CODES: dict[type[Exception], int] = {
    OperatorError: EXIT_FAILED,
    UsageError: EXIT_USAGE,
    NomadError: EXIT_FAILED,
    BridgeError: EXIT_FAILED,
    JobNotFound: EXIT_NOT_FOUND,
}


def exit_code(error: Exception) -> int:
    """The exit code of the error's class or of its nearest listed base class."""
    return next((EXIT_CODES[c] for c in type(error).__mro__ if c in EXIT_CODES), EXIT_FAILED)


def message(error: Exception) -> str:
    """The one line a failure prints: what was being done (its notes), then why."""
    why = str(error)
    if isinstance(error, NomadError):
        answered = error.status is not None
        why = f"Nomad answered {error.status}: {error.message}" if answered else error.message
    return ": ".join([*getattr(error, "__notes__", ()), why])
