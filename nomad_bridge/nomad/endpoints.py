"""The Nomad endpoints the bridge uses, and how a job ID or variable path goes into a URL.

Each caller-supplied value (job ID, variable path) becomes exactly ONE percent-encoded path
segment, so that `../../v1/acl`, `a/b`, `a b` or `café` can never reach another endpoint.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

from yarl import URL

from nomad_bridge.nomad.errors import UnroutableID


def encode_segment(value: str) -> str:
    """`value` as one path segment: every reserved byte percent-encoded, `/` included.

    `.` and `..` would still be dot-segments that servers and proxies collapse, so their dots
    are encoded as well.
    """
    if value.strip(".") == "":
        return "%2E" * len(value)
    return quote(value, safe="")


JOB_ID_HOLE = ":id"


# Sub-resources Nomad recognises by suffix (or infix) of the decoded `/v1/job/...` path.
JOB_SUBRESOURCES = frozenset(
    {
        "action", "actions", "allocations", "deployment", "deployments", "dispatch",
        "evaluate", "evaluations", "force", "periodic", "plan", "revert", "scale",
        "services", "stable", "submission", "summary", "tag", "versions",
    }
)  # fmt: skip


def routable_job_id(job_id: str) -> bool:
    """Whether Nomad routes `/v1/job/<encoded id>[/...]` to this job and nowhere else.

    Nomad decodes the path before routing, so `/` in an ID is a real separator there: an ID
    whose pieces are empty, dot-segments (cleaned away) or sub-resource names could address
    another job or endpoint. Other IDs, `/` included, route correctly.
    """
    if job_id.strip(".") == "":
        return False
    pieces = job_id.split("/")
    if len(pieces) == 1:
        return True
    return all(piece.strip(".") and piece not in JOB_SUBRESOURCES for piece in pieces)


def job_segment(job_id: str, template: str) -> str:
    """A job ID as the one path segment it becomes in a `/v1/job/...` URL (`template` names
    the endpoint in the error); `UnroutableID` when Nomad would route it elsewhere. Both
    clients of Nomad (the async client and the CLI's python-nomad) put job IDs in URLs here."""
    if not routable_job_id(job_id):
        raise UnroutableID(
            f"job ID {job_id[:200]!r} cannot be sent to Nomad safely: Nomad routes job "
            "paths after decoding them, and this ID would reach another job or endpoint",
            path=template,
        )
    return encode_segment(job_id)


@dataclass(frozen=True, slots=True)
class Endpoint:
    """A route of Nomad's API; `template` (`/v1/job/:id`) names it in metrics and logs."""

    template: str

    def path(self, *values: str) -> str:
        """The encoded path with each `:name` placeholder replaced by one encoded value."""
        parts = self.template.split("/")
        holes = [i for i, part in enumerate(parts) if part.startswith(":")]
        if len(holes) != len(values):
            raise ValueError(f"{self.template} takes {len(holes)} values, got {len(values)}")
        for i, value in zip(holes, values, strict=True):
            if not value:
                raise ValueError(f"empty value for {parts[i]} in {self.template}")
            is_job_id = parts[i] == JOB_ID_HOLE
            parts[i] = job_segment(value, self.template) if is_job_id else encode_segment(value)
        return "/".join(parts)

    def url(self, base: URL, *values: str) -> URL:
        """The full URL under `base`, keeping a path prefix `base` may have (a proxy's)."""
        prefix = base.raw_path.rstrip("/")
        return base.with_path(prefix + self.path(*values), encoded=True)


JOBS = Endpoint("/v1/jobs")
JOB = Endpoint("/v1/job/:id")
JOB_SUMMARY = Endpoint("/v1/job/:id/summary")
JOB_SCALE = Endpoint("/v1/job/:id/scale")
VARIABLES = Endpoint("/v1/vars")
VARIABLE = Endpoint("/v1/var/:path")
EVENT_STREAM = Endpoint("/v1/event/stream")
