"""The one error type handlers raise: a status and the plain-text body Nomad would send.

Nomad's HTTP layer (`wrap` in command/agent/http.go) writes every error as the bare message
with the status it derives: a coded error keeps its code, a message ending in
`Permission denied` is 403, and anything else is 500. Handlers here pick the status the same
way at the point where Nomad would raise the error, so the mapping stays next to the fact.
"""

from __future__ import annotations

from collections.abc import Mapping

PERMISSION_DENIED = "Permission denied"
INVALID_METHOD = "Invalid method"
NO_PATH_TO_REGION = "No path to region"
ENFORCE_INDEX_PREFIX = "Enforcing job modify index"


class NomadError(Exception):
    """An answer Nomad gives as `text/plain`: `status` with `message` as the whole body."""

    def __init__(self, status: int, message: str, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = dict(headers or {})


def multierror(errors: list[str]) -> str:
    """hashicorp/go-multierror's text, which Nomad returns verbatim for validation failures."""
    noun = "error" if len(errors) == 1 else "errors"
    points = "".join(f"\t* {e}\n" for e in errors)
    return f"{len(errors)} {noun} occurred:\n{points}\n"
