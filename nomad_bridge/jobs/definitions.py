"""Saved job definitions: the spec of every listed job, kept in a Nomad Variable.

Nomad garbage-collects stopped jobs after a few hours; operators expect a job stopped weeks
ago to still be listed and startable. So the bridge keeps each job's latest spec in Nomad
itself (SPEC section 4) — the bridge stays stateless and every replica sees the same thing.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import string
import zlib
from collections.abc import Callable, Container, Mapping
from dataclasses import dataclass
from typing import Any

from nomad_bridge.nomad import NomadClient
from nomad_bridge.nomad import errors as nomad
from nomad_bridge.nomad.models import Job

log = logging.getLogger(__name__)

VARIABLE_PATH_MAX_CHARS = 128
VARIABLE_ITEMS_MAX_BYTES = 64 * 1024
# Leave room for the other items and their keys inside Nomad's 64 KiB limit.
PLAIN_SPEC_MAX_BYTES = 16 * 1024
_SAFE_CHARS = frozenset(string.ascii_letters + string.digits + "-_")
_ESCAPE = "~"

# Fields Nomad maintains itself: they change without the spec changing (Nomad's SpecChanged
# ignores the same ones, plus Stop, which start and stop toggle and which the bridge sets).
_BOOKKEEPING_FIELDS = frozenset(
    {
        "Stop",
        "Status",
        "StatusDescription",
        "Stable",
        "Version",
        "SubmitTime",
        "CreateIndex",
        "ModifyIndex",
        "JobModifyIndex",
        "VersionTag",
    }
)


def encode_job_id(job_id: str) -> str:
    """A reversible encoding of any job ID into Nomad's variable path alphabet, one segment.

    Letters, digits, `-` and `_` stand for themselves; every other UTF-8 byte becomes `~XX`.
    """
    out: list[str] = []
    for char in job_id:
        if char in _SAFE_CHARS:
            out.append(char)
        else:
            out.extend(f"{_ESCAPE}{byte:02X}" for byte in char.encode("utf-8"))
    return "".join(out)


def decode_job_id(segment: str) -> str:
    raw = bytearray()
    i = 0
    while i < len(segment):
        if segment[i] == _ESCAPE:
            raw.append(int(segment[i + 1 : i + 3], 16))
            i += 3
        else:
            raw.extend(segment[i].encode("ascii"))
            i += 1
    return raw.decode("utf-8")


def definition_path(prefix: str, job_id: str) -> str:
    """The variable path of a job's definition; very long IDs fall back to a digest.

    The digest path is not reversible, which is fine: the job ID is stored in the items too.
    """
    path = f"{prefix.strip('/')}/{encode_job_id(job_id)}"
    if len(path) <= VARIABLE_PATH_MAX_CHARS:
        return path
    digest = hashlib.sha256(job_id.encode("utf-8")).hexdigest()[:40]
    return f"{prefix.strip('/')}/{_ESCAPE}h{digest}"


def canonical_spec(spec: Mapping[str, Any]) -> dict[str, Any]:
    """The job spec without what Nomad maintains itself."""
    return {key: value for key, value in spec.items() if key not in _BOOKKEEPING_FIELDS}


def spec_digest(spec: Mapping[str, Any]) -> str:
    encoded = json.dumps(canonical_spec(spec), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(encoded.encode("utf-8")).hexdigest()


class DefinitionTooLarge(Exception):
    """A spec that does not fit Nomad's 64 KiB variable limit even compressed."""


def encode_items(job_id: str, spec: Mapping[str, Any]) -> dict[str, str]:
    """Variable items for a spec: plain JSON when small, zlib + base64 when that is needed."""
    canonical = canonical_spec(spec)
    text = json.dumps(canonical, sort_keys=True, separators=(",", ":"))
    items = {"jobID": job_id, "digest": spec_digest(spec), "encoding": "json", "spec": text}
    if len(text.encode("utf-8")) > PLAIN_SPEC_MAX_BYTES:
        packed = base64.b64encode(zlib.compress(text.encode("utf-8"), 9)).decode("ascii")
        items.update(encoding="zlib+base64", spec=packed)
    size = sum(len(k.encode()) + len(v.encode()) for k, v in items.items())
    if size > VARIABLE_ITEMS_MAX_BYTES:
        raise DefinitionTooLarge(f"job {job_id!r} spec is {size} bytes even compressed")
    return items


def decode_items(items: Mapping[str, str]) -> tuple[str, dict[str, Any]]:
    """The job ID and spec stored in a definition variable."""
    text = items["spec"]
    if items.get("encoding") == "zlib+base64":
        text = zlib.decompress(base64.b64decode(text)).decode("utf-8")
    spec = json.loads(text)
    if not isinstance(spec, dict):
        raise ValueError("saved definition is not a JSON object")
    return items["jobID"], spec


@dataclass(frozen=True, slots=True)
class SavedDefinition:
    """A job's saved spec and the Nomad index at which it was last written."""

    modify_index: int
    job: Job


@dataclass(slots=True)
class _Saved:
    digest: str
    modify_index: int


class DefinitionStore:
    """Reads and writes saved definitions through Nomad, remembering what it already wrote.

    The memory only spares Nomad requests: a fresh replica rebuilds it by reading variables.
    Whoever wants to know of every definition written (the live view lists a collected job
    from it) registers with `on_saved`.
    """

    def __init__(self, client: NomadClient, prefix: str) -> None:
        self._client = client
        self._prefix = prefix.strip("/")
        self._saved: dict[str, _Saved] = {}
        self._loaded: dict[str, SavedDefinition] = {}
        self._listed: dict[str, int] | None = None  # path -> ModifyIndex, at the last listing
        self._listeners: list[Callable[[SavedDefinition], None]] = []

    @property
    def prefix(self) -> str:
        return self._prefix

    def path(self, job_id: str) -> str:
        return definition_path(self._prefix, job_id)

    def on_saved(self, listener: Callable[[SavedDefinition], None]) -> None:
        self._listeners.append(listener)

    async def save(self, job: Job) -> bool:
        """Save the job's spec unless Nomad already holds the same one; True if written.

        A definition this process wrote or read before is overwritten with check-and-set on
        the index it knows (one request). Otherwise the last listing of the variables says
        whether there is one: none, it is created (one request); one written at or after
        the job's `JobModifyIndex`, it holds this spec (no request); else it is read first.
        """
        spec = job.spec()
        digest = spec_digest(spec)
        known = self._saved.get(job.id)
        if known is not None and known.digest == digest:
            return False
        try:
            items = encode_items(job.id, spec)
        except DefinitionTooLarge:
            log.warning("definition_too_large", extra={"job": job.id})
            return False
        path = self.path(job.id)
        if known is not None:
            cas = known.modify_index
        else:
            listed = None if self._listed is None else self._listed.get(path, 0)
            if listed is not None and listed >= job.job_modify_index > 0:
                self._saved[job.id] = _Saved(digest, listed)
                return False
            cas, stored_digest = (listed, None) if listed == 0 else await self._stored(path)
            if stored_digest == digest:
                self._saved[job.id] = _Saved(digest, cas)
                return False
        try:
            written = await self._client.put_variable(path, items, cas=cas)
        except nomad.CasConflict:
            # Someone else wrote it meanwhile (another replica, or our memory was stale):
            # forget what we knew; the next change reads the variable first.
            self._saved.pop(job.id, None)
            if self._listed is not None:
                self._listed[path] = -1  # unknown now: read it before the next write
            return False
        self._saved[job.id] = _Saved(digest, written.modify_index)
        # What we wrote we know: listings need not read it back.
        saved = SavedDefinition(written.modify_index, job)
        self._loaded[path] = saved
        log.info("definition_saved", extra={"job": job.id, "path": path})
        for listener in self._listeners:
            listener(saved)
        return True

    async def _stored(self, path: str) -> tuple[int, str | None]:
        """The variable's index and stored digest; (0, None) when there is none yet."""
        try:
            current = (await self._client.read_variable(path)).value
        except nomad.NotFound:
            return 0, None
        return current.modify_index, current.items.get("digest")

    async def load(self, job_id: str) -> Job | None:
        """The saved definition of a job, or None if the bridge never saved one."""
        try:
            variable = (await self._client.read_variable(self.path(job_id))).value
        except nomad.NotFound:
            return None
        stored_id, spec = decode_items(variable.items)
        if stored_id != job_id:
            return None
        return Job.model_validate(spec)

    async def load_collected(self, in_nomad: Container[str]) -> dict[str, SavedDefinition]:
        """The saved definitions of jobs Nomad no longer has (`in_nomad` are those it has),
        by job ID. Only variables that changed since they were last read are read again,
        and none whose path names a job in Nomad."""
        metas = await self._client.list_variables(self._prefix + "/")
        self._listed = {meta.path: meta.modify_index for meta in metas}
        loaded: dict[str, SavedDefinition] = {}
        for meta in metas:
            if self._names_job_in(meta.path, in_nomad):
                continue
            entry = self._loaded.get(meta.path)
            if entry is None or entry.modify_index != meta.modify_index:
                entry = await self._read_definition(meta.path)
            if entry is not None:
                loaded[meta.path] = entry
        self._loaded = loaded
        return {e.job.id: e for e in loaded.values() if e.job.id not in in_nomad}

    def _names_job_in(self, path: str, jobs: Container[str]) -> bool:
        """Whether the path is that of a job in `jobs` (digest paths cannot tell: False)."""
        segment = path.removeprefix(self._prefix + "/")
        if segment.startswith(_ESCAPE + "h"):
            return False
        try:
            return decode_job_id(segment) in jobs
        except (ValueError, UnicodeDecodeError):
            return False

    async def _read_definition(self, path: str) -> SavedDefinition | None:
        try:
            variable = (await self._client.read_variable(path)).value
            job_id, spec = decode_items(variable.items)
            job = Job.model_validate(spec)
        except nomad.NotFound:
            return None
        except (KeyError, ValueError, zlib.error):
            log.warning("definition_unreadable", extra={"path": path})
            return None
        if job.id != job_id:
            log.warning("definition_mismatch", extra={"path": path, "job": job_id})
            return None
        self._saved.setdefault(job_id, _Saved(spec_digest(spec), variable.modify_index))
        return SavedDefinition(variable.modify_index, job)

    def forget_known(self) -> None:
        """Drop what this process remembers of Nomad's variables (their indexes moved)."""
        self._saved.clear()
        self._loaded.clear()
        self._listed = None

    async def forget(self, job_id: str) -> None:
        await self._client.delete_variable(self.path(job_id))
        self._saved.pop(job_id, None)
