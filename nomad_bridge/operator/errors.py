"""What can go wrong in an operator command, and the exit code each failure means.

    OperatorError            exit 1: Nomad refused or failed, or the operation did not finish
     ├── NomadFailed         Nomad answered with an error, or could not be reached
     │    └── CasConflict    a check-and-set lost to a concurrent write
     ├── UsageError          exit 2: the command line or the environment is wrong
     └── JobNotFound         exit 3: no such job (in Nomad, nor as a saved definition)

Messages are for stderr: they never carry the ACL token.
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_NOT_FOUND = 3
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report it


class OperatorError(Exception):
    """A failure to report on stderr; `exit_code` is what the process exits with."""

    exit_code = EXIT_FAILED


class NomadFailed(OperatorError):
    """Nomad answered with an error status (`status`), or could not be reached (`status` 0)."""

    def __init__(self, message: str, *, status: int = 0, text: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.text = text


class CasConflict(NomadFailed):
    """A job register with `EnforceIndex`, or a variable write with `cas`, lost a race."""


class UsageError(OperatorError):
    """The command line, or the NOMAD_*/BRIDGE_* environment, cannot be used."""

    exit_code = EXIT_USAGE


class JobNotFound(OperatorError):
    """Nomad does not list the job and the bridge keeps no saved definition of it."""

    exit_code = EXIT_NOT_FOUND

    def __init__(self, job_id: str) -> None:
        super().__init__(f"job {job_id!r} not found")
        self.job_id = job_id
