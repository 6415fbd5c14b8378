"""Bridge settings, read from `BRIDGE_*` environment variables.

Nomad's own connection settings (`NOMAD_ADDR`, `NOMAD_TOKEN`, ...) live with the Nomad client
in `nomad_bridge.nomad.settings`, so that the bridge reads them exactly as Nomad's CLI does.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from nomad_bridge.jobs.view import FlagKeys
from nomad_bridge.nomad.client import DEFAULT_TIMEOUT_S

EventLoop = Literal["uvloop", "asyncio"]


def default_event_loop() -> EventLoop:
    """uvloop where it is installed (a dependency on Linux and macOS), else asyncio's own."""
    return "uvloop" if importlib.util.find_spec("uvloop") is not None else "asyncio"


class BridgeSettings(BaseSettings):
    """Everything the bridge itself can be told; one instance per application."""

    model_config = SettingsConfigDict(env_prefix="BRIDGE_", extra="ignore")

    base_path: str = Field(default="/", description="Path prefix of every Cluster API route.")
    tokens: Annotated[list[SecretStr], NoDecode] = Field(
        default_factory=list,
        description="Comma-separated bearer tokens; when set, every API route needs one.",
    )
    tokens_file: Path | None = Field(
        default=None, description="File with one bearer token per line (added to `tokens`)."
    )
    autostart_key: str = Field(default="autostart", description="Job Meta key of `autostart`.")
    bycluster_key: str = Field(default="byCluster", description="Job Meta key of `byCluster`.")
    definitions_prefix: str = Field(
        default="nomad-bridge/jobs",
        description="Nomad Variables path under which saved job definitions are kept.",
    )
    bulk_concurrency: int = Field(
        default=8, ge=1, le=256, description="Jobs worked on at once by startall/stopall."
    )
    bulk_deadline_s: float = Field(
        default=30.0,
        gt=0,
        description="startall/stopall answer by then, well under common proxy timeouts; a "
        "job not finished by then is 504 in the results (what was sent may still apply).",
    )
    max_count: int = Field(
        default=1000,
        ge=1,
        description="Largest task group count a client may ask for (400 above); a group's "
        "scaling policy may be stricter.",
    )
    body_limit_bytes: int = Field(
        default=64 * 1024, ge=1024, description="Largest request body accepted (413 above)."
    )
    count_change_attempts: int = Field(
        default=25, ge=1, le=100, description="Check-and-set attempts for one count change."
    )
    read_concurrency: int = Field(
        default=16, ge=1, le=256, description="Nomad reads in flight while building views."
    )
    nomad_timeout_s: float = Field(
        default=DEFAULT_TIMEOUT_S,
        gt=0,
        description="Longest wait for one Nomad answer (504 past it).",
    )
    watch: Literal["auto", "events", "list"] = Field(
        default="auto",
        description="How the live view follows Nomad: `events` (list once, then Nomad's "
        "event stream: cost per change), `list` (a blocking query on the job list: the "
        "whole list per change), or `auto` (events, falling back to list while the stream "
        "is refused or misbehaves).",
    )
    watch_wait_s: float = Field(
        default=60.0, gt=0, le=300, description="Wait of the blocking job-list query (list mode)."
    )
    watch_probe_s: float = Field(
        default=3.0,
        gt=0,
        le=60,
        description="How often the watch asks Nomad for its index (one tiny request) when "
        "nothing else told it: bounds how long a Nomad index reset (snapshot restore) goes "
        "unnoticed.",
    )
    watch_heartbeat_s: float = Field(
        default=30.0,
        gt=0,
        description="Nomad's event-stream heartbeat period (30 s in Nomad); a stream silent "
        "for twice as long is treated as broken.",
    )
    watch_events_retry_s: float = Field(
        default=60.0,
        gt=0,
        description="After falling back to the list watch (auto), how long before the "
        "event stream is tried again.",
    )
    access_log_reads: bool = Field(
        default=True,
        description="Log a line for every successful GET too; off, only mutations and "
        "errors are logged (metrics still count every request).",
    )
    log_level: str = Field(default="INFO", description="Python logging level.")
    event_loop: EventLoop = Field(
        default_factory=default_event_loop,
        description="The event loop `serve` runs on: `uvloop` (the default where installed) "
        "or `asyncio` (the standard library's).",
    )

    @field_validator("tokens", mode="before")
    @classmethod
    def _split_tokens(cls, value: object) -> object:
        if isinstance(value, str):
            return [token.strip() for token in value.split(",") if token.strip()]
        return value

    @field_validator("base_path")
    @classmethod
    def _normalise_base_path(cls, value: str) -> str:
        value = "/" + value.strip("/")
        return value if value == "/" else value + "/"

    @model_validator(mode="after")
    def _read_tokens_file(self) -> BridgeSettings:
        if self.tokens_file is not None:
            lines = self.tokens_file.read_text(encoding="utf-8").splitlines()
            self.tokens = [*self.tokens, *(SecretStr(s.strip()) for s in lines if s.strip())]
        return self

    @property
    def flag_keys(self) -> FlagKeys:
        """The Meta keys of the Cluster API's two flags."""
        return FlagKeys(autostart=self.autostart_key, by_cluster=self.bycluster_key)

    def route(self, path: str) -> str:
        """The full route for an API path given relative to the base path."""
        return self.base_path + path.lstrip("/")
