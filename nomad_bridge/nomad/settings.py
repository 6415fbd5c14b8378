"""How to reach Nomad, read from the standard `NOMAD_*` environment as Nomad's own CLI does."""

from __future__ import annotations

import ssl
from pathlib import Path

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from yarl import URL


class NomadSettings(BaseSettings):
    """Address, ACL token, scope and TLS of the Nomad cluster the bridge talks to.

    The token is a `SecretStr`: it never shows in `repr()`, `str()` or a log line.
    """

    model_config = SettingsConfigDict(env_prefix="NOMAD_", env_ignore_empty=True, extra="ignore")

    addr: str = Field(default="http://127.0.0.1:4646", description="Base URL of a Nomad agent.")
    token: SecretStr | None = Field(default=None, description="ACL SecretID (X-Nomad-Token).")
    region: str | None = Field(default=None, description="Region sent on every request.")
    namespace: str = Field(default="default", description="Namespace sent on every request.")
    cacert: Path | None = Field(default=None, description="CA bundle (PEM) to verify Nomad.")
    capath: Path | None = Field(default=None, description="Directory of CA certificates (PEM).")
    client_cert: Path | None = Field(default=None, description="mTLS client certificate (PEM).")
    client_key: Path | None = Field(default=None, description="mTLS client key (PEM).")
    skip_verify: bool = Field(default=False, description="Do not verify Nomad's certificate.")
    tls_server_name: str | None = Field(
        default=None, description="Server name for SNI and certificate verification."
    )

    @field_validator("addr")
    @classmethod
    def _http_or_https(cls, value: str) -> str:
        url = URL(value.strip())
        if url.scheme not in ("http", "https") or not url.host:
            raise ValueError("NOMAD_ADDR must be an http:// or https:// URL")
        return str(url)

    @property
    def base_url(self) -> URL:
        """`addr` as a URL; a path in it (a proxy's prefix) is kept."""
        return URL(self.addr)

    @property
    def uses_tls(self) -> bool:
        return self.base_url.scheme == "https"

    def ssl_context(self) -> ssl.SSLContext | None:
        """The TLS context for an `https` address, or None for plain HTTP.

        Honours the CA (file wins over directory, as in Nomad's CLI), the mTLS certificate and
        key, and `skip_verify`. The server name is not part of the context: pass
        `tls_server_name` to aiohttp as `server_hostname`.
        """
        if not self.uses_tls:
            return None
        if (self.client_cert is None) != (self.client_key is None):
            raise ValueError("NOMAD_CLIENT_CERT and NOMAD_CLIENT_KEY must be given together")
        if self.cacert is not None:
            context = ssl.create_default_context(cafile=str(self.cacert))
        elif self.capath is not None:
            context = ssl.create_default_context(capath=str(self.capath))
        else:
            context = ssl.create_default_context()
        if self.client_cert is not None and self.client_key is not None:
            context.load_cert_chain(certfile=str(self.client_cert), keyfile=str(self.client_key))
        if self.skip_verify:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        return context
