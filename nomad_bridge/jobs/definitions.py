"""Saved job definitions: the spec of every listed job, kept in a Nomad Variable.

Nomad garbage-collects stopped jobs after a few hours; operators expect a job stopped weeks
ago to still be listed and startable. So the bridge keeps each job's latest spec in Nomad
itself (SPEC section 4) — the bridge stays stateless and every replica sees the same thing.

The one module that encodes, decodes and saves them, for the server and the operator CLI
alike: the I/O goes through `NomadApi`, which the server's client and the CLI's python-nomad
adapter both provide.
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

from nomad_bridge.jobs.errors import BridgeError
from nomad_bridge.nomad import errors as nomad
from nomad_bridge.nomad.models import Job, Variable
from nomad_bridge.nomad.protocol import NomadApi

log = logging.getLogger(__name__)

SAVE_ATTEMPTS = 5  # check-and-set rounds before a save gives up to a busy writer
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


@dataclass(frozen=True, slots=True)
class EncodedSpec:
    """A spec's canonical JSON and its digest, computed once per save (the spec of a big
    job is the most expensive thing a count change encodes)."""

    text: str
    digest: str


def encode_spec(spec: Mapping[str, Any]) -> EncodedSpec:
    text = json.dumps(canonical_spec(spec), sort_keys=True, separators=(",", ":"))
    return EncodedSpec(text, hashlib.sha256(text.encode("utf-8")).hexdigest())


def spec_digest(spec: Mapping[str, Any]) -> str:
    return encode_spec(spec).digest


class DefinitionTooLarge(BridgeError):
    """A spec that does not fit Nomad's 64 KiB variable limit even compressed."""


def encode_items(job_id: str, spec: Mapping[str, Any] | EncodedSpec) -> dict[str, str]:
    """Variable items for a spec: plain JSON when small, zlib + base64 when that is needed."""
    encoded = spec if isinstance(spec, EncodedSpec) else encode_spec(spec)
    text = encoded.text
    items = {"jobID": job_id, "digest": encoded.digest, "encoding": "json", "spec": text}
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


class UnreadableDefinition(ValueError):
    """A variable under the prefix that holds no usable definition."""


def decode_definition(variable: Variable) -> SavedDefinition:
    """The definition a variable holds; `UnreadableDefinition` if it cannot be decoded or its
    spec is of another job than the one it names."""
    try:
        job_id, spec = decode_items(variable.items)
        job = Job.model_validate(spec)
    except (KeyError, ValueError, zlib.error) as error:
        raise UnreadableDefinition(f"undecodable: {type(error).__name__}") from error
    if job.id != job_id:
        raise UnreadableDefinition(f"it names job {job_id!r} but holds job {job.id!r}")
    return SavedDefinition(variable.modify_index, job)


@dataclass(slots=True)
class _Saved:
    digest: str
    modify_index: int


class DefinitionStore:
    """Reads and writes saved definitions through Nomad, remembering what it already wrote.

    The memory only spares Nomad requests: a fresh process rebuilds it by reading variables.
    Whoever wants to know of every definition written (the live view lists a collected job
    from it) registers with `on_saved`.
    """

    def __init__(self, nomad_api: NomadApi, prefix: str) -> None:
        self._nomad = nomad_api
        self._prefix = prefix.strip("/")
        self._saved: dict[str, _Saved] = {}
        self._loaded: dict[str, SavedDefinition] = {}
        self._listed: dict[str, int] | None = None  # path -> ModifyIndex, at the last listing
        self._listeners: list[Callable[[SavedDefinition], None]] = []

    def path(self, job_id: str) -> str:
        return definition_path(self._prefix, job_id)

    def on_saved(self, listener: Callable[[SavedDefinition], None]) -> None:
        self._listeners.append(listener)

    async def save(self, job: Job) -> bool:
        """Save the job's spec unless Nomad already holds the same one; True if written.

        Check-and-set on the variable's index, so a concurrent writer (another replica, the
        CLI) is never overwritten blindly: after a lost race the variable is read and compared
        again. A definition this process wrote or read before costs one request; so does one
        the last listing of the variables (`load_collected`) says is absent (it is created),
        and one listed as written at or after the job's `JobModifyIndex` costs none (it holds
        this spec). Raises `DefinitionTooLarge`, or the last `CasConflict` if every round
        lost.
        """
        encoded = encode_spec(job.spec())
        digest = encoded.digest
        known = self._saved.get(job.id)
        if known is not None and known.digest == digest:
            return False
        items = encode_items(job.id, encoded)
        path = self.path(job.id)
        listed = None if self._listed is None or known is not None else self._listed.get(path, 0)
        if listed is not None and listed >= job.job_modify_index > 0:
            self._saved[job.id] = _Saved(digest, listed)
            return False
        for attempt in range(1, SAVE_ATTEMPTS + 1):
            if known is not None:
                cas = known.modify_index
            elif listed == 0:
                cas = 0  # none yet, as listed: create it
            else:
                cas, stored_digest = await self._stored(path)
                if stored_digest == digest:
                    self._saved[job.id] = _Saved(digest, cas)
                    return False
            try:
                written = await self._nomad.put_variable(path, items, cas=cas)
            except nomad.CasConflict:
                self._saved.pop(job.id, None)
                known = listed = None
                if self._listed is not None:
                    self._listed.pop(path, None)
                if attempt == SAVE_ATTEMPTS:
                    raise
                continue
            self._wrote(path, job, digest, written.modify_index)
            return True
        raise AssertionError("unreachable: the last round returns or raises")

    async def replace(self, saved: SavedDefinition, job: Job) -> SavedDefinition:
        """Write `job` over the definition that was read as `saved`, only if nobody wrote it
        since (check-and-set on its index); `CasConflict` otherwise: read it again."""
        encoded = encode_spec(job.spec())
        path = self.path(job.id)
        try:
            written = await self._nomad.put_variable(
                path, encode_items(job.id, encoded), cas=saved.modify_index
            )
        except nomad.CasConflict:
            self._saved.pop(job.id, None)
            raise
        self._wrote(path, job, encoded.digest, written.modify_index)
        return SavedDefinition(written.modify_index, job)

    def _wrote(self, path: str, job: Job, digest: str, modify_index: int) -> None:
        self._saved[job.id] = _Saved(digest, modify_index)
        # What we wrote we know: listings need not read it back.
        saved = SavedDefinition(modify_index, job)
        self._loaded[path] = saved
        log.info("definition_saved", extra={"job": job.id, "path": path})
        for listener in self._listeners:
            listener(saved)

    async def _variable(self, path: str) -> Variable | None:
        try:
            return (await self._nomad.read_variable(path)).value
        except nomad.NotFound:
            return None

    async def _stored(self, path: str) -> tuple[int, str | None]:
        """The variable's index and stored digest; (0, None) when there is none yet."""
        current = await self._variable(path)
        if current is None:
            return 0, None
        return current.modify_index, current.items.get("digest")

    async def load(self, job_id: str) -> SavedDefinition | None:
        """The saved definition of exactly this job, or None if there is no readable one."""
        definition = await self._read(self.path(job_id))
        return definition if definition is not None and definition.job.id == job_id else None

    async def load_collected(self, in_nomad: Container[str]) -> dict[str, SavedDefinition]:
        """The saved definitions of jobs Nomad no longer has (`in_nomad` are those it has),
        by job ID (SPEC section 2: they are listed as collected). Only variables that changed
        since they were last read are read again, and none whose path names a job in Nomad:
        at 5,000 jobs a cold start reads none of theirs."""
        metas = await self._nomad.list_variables(self._prefix + "/")
        self._listed = {meta.path: meta.modify_index for meta in metas}
        loaded: dict[str, SavedDefinition] = {}
        for meta in metas:
            if self._names_job_in(meta.path, in_nomad):
                continue
            entry = self._loaded.get(meta.path)
            if entry is None or entry.modify_index != meta.modify_index:
                entry = await self._read(meta.path)
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

    async def _read(self, path: str) -> SavedDefinition | None:
        variable = await self._variable(path)
        if variable is None:
            return None
        try:
            definition = decode_definition(variable)
        except UnreadableDefinition as error:
            log.warning("definition_unreadable", extra={"path": path, "reason": str(error)})
            return None
        digest = spec_digest(definition.job.spec())
        self._saved.setdefault(definition.job.id, _Saved(digest, definition.modify_index))
        return definition

    async def holds(self, job_id: str) -> bool:
        """Whether something is saved at this job's path that is not another job's definition
        (an unreadable one is still this job's, to delete)."""
        variable = await self._variable(self.path(job_id))
        if variable is None:
            return False
        try:
            return decode_definition(variable).job.id == job_id
        except UnreadableDefinition:
            return True

    async def delete(self, job_id: str) -> None:
        """Delete the job's saved definition (removing a job for good, SPEC section 4)."""
        await self._nomad.delete_variable(self.path(job_id))
        self._saved.pop(job_id, None)

    def forget_known(self) -> None:
        """Drop what this process remembers of Nomad's variables (their indexes moved)."""
        self._saved.clear()
        self._loaded.clear()
        self._listed = None
