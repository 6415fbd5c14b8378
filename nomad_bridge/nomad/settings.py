"""How to reach Nomad, read from the standard `NOMAD_*` environment as Nomad's own CLI does."""

from __future__ import annotations

import os
import ssl
from pathlib import Path

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from yarl import URL

# Go's strconv.ParseBool, which Nomad uses for NOMAD_SKIP_VERIFY.
GO_TRUE = frozenset({"1", "t", "T", "TRUE", "true", "True"})
GO_FALSE = frozenset({"0", "f", "F", "FALSE", "false", "False"})
# Over a unix socket, requests still need an http URL: its host is a placeholder, as in
# Nomad's Go API (`api.Client.newRequest`), and is what Nomad sees as the Host header.
UNIX_PLACEHOLDER_URL = URL("http://127.0.0.1")


class NomadSettings(BaseSettings):
    """Address, ACL token, scope and TLS of the Nomad cluster the bridge talks to.

    The token is a `SecretStr`: it never shows in `repr()`, `str()` or a log line.
    """

    model_config = SettingsConfigDict(env_prefix="NOMAD_", env_ignore_empty=True, extra="ignore")

    addr: str = Field(
        default="http://127.0.0.1:4646",
        description="Base URL of a Nomad agent, or unix:///path/to/api.sock (the Task API).",
    )
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
    def _http_https_or_unix(cls, value: str) -> str:
        url = URL(value.strip())
        if url.scheme == "unix":
            # Nomad dials the URL's path and ignores a host: `unix://secrets/api.sock` would
            # be /api.sock there. Refuse it rather than dial somewhere unexpected.
            if url.host or not url.path.startswith("/"):
                raise ValueError("NOMAD_ADDR=unix:// needs an absolute path: unix:///path/api.sock")
            return value.strip()
        if url.scheme not in ("http", "https") or not url.host:
            raise ValueError("NOMAD_ADDR must be an http://, https:// or unix:// URL")
        return str(url)

    @field_validator("skip_verify", mode="before")
    @classmethod
    def _go_bool(cls, value: object) -> object:
        """Nomad ignores a value Go cannot parse (and verifies); refuse it rather than guess."""
        if not isinstance(value, str):
            return value
        if value in GO_TRUE or value in GO_FALSE:
            return value in GO_TRUE
        raise ValueError("NOMAD_SKIP_VERIFY must be true or false (or 1, 0, t, f, TRUE, FALSE)")

    @property
    def base_url(self) -> URL:
        """The URL requests are built on: `addr` (a path in it, a proxy's prefix, is kept), or
        the placeholder for a unix socket."""
        return UNIX_PLACEHOLDER_URL if self.unix_socket else URL(self.addr)

    @property
    def unix_socket(self) -> str | None:
        """The socket's path when `addr` is a `unix://` URL (Nomad's Task API)."""
        url = URL(self.addr)
        return url.path if url.scheme == "unix" else None

    @property
    def uses_tls(self) -> bool:
        """Over a unix socket there is no TLS, whatever NOMAD_CACERT says (as in Nomad)."""
        return self.base_url.scheme == "https"

    def ssl_context(self) -> ssl.SSLContext | None:
        """The TLS context for an `https` address, or None for plain HTTP; as Nomad's Go client
        (`api.ConfigureTLS`) builds it.

        Trusts the CA file, else every certificate file under the CA directory, else the
        system's CAs; presents the mTLS certificate; `skip_verify` turns verification off
        entirely. The server name is not part of a context: the transport sends
        `tls_server_name` as aiohttp's `server_hostname` (SNI and the name verified).
        A setting that cannot be used is a `ValueError` naming its variable.
        """
        if not self.uses_tls:
            return None
        if (self.client_cert is None) != (self.client_key is None):
            raise ValueError("NOMAD_CLIENT_CERT and NOMAD_CLIENT_KEY must be given together")
        context = self._verifying_context()
        if self.client_cert is not None and self.client_key is not None:
            try:
                context.load_cert_chain(self.client_cert, self.client_key, password=_no_password)
            except (OSError, ValueError) as error:
                raise ValueError(
                    f"NOMAD_CLIENT_CERT / NOMAD_CLIENT_KEY: cannot load {self.client_cert} "
                    f"with {self.client_key}: {_reason(error)}"
                ) from error
        if self.skip_verify:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        return context

    def _verifying_context(self) -> ssl.SSLContext:
        """A client context trusting NOMAD_CACERT, else NOMAD_CAPATH, else the system's CAs."""
        if self.cacert is not None:
            variable, files = "NOMAD_CACERT", [self.cacert]
        elif self.capath is not None:
            variable, files = "NOMAD_CAPATH", _files_under(self.capath)
        else:
            return ssl.create_default_context()
        path = files[0]
        try:
            context = ssl.create_default_context(cafile=path)
            for path in files[1:]:
                context.load_verify_locations(cafile=path)
        except OSError as error:  # ssl.SSLError is one
            raise ValueError(
                f"{variable}: no usable CA certificate in {path}: {_reason(error)}"
            ) from error
        return context


def _files_under(directory: Path) -> list[Path]:
    """Every file under `directory`, recursively, in a stable order: Nomad (go-rootcerts)
    loads them all, unlike OpenSSL's hashed-name lookup of a `capath`."""
    if not directory.is_dir():
        raise ValueError(f"NOMAD_CAPATH: {directory} is not a directory")
    files = sorted(Path(root) / name for root, _, names in os.walk(directory) for name in names)
    if not files:
        raise ValueError(f"NOMAD_CAPATH: {directory} holds no CA certificate files")
    return files


def _no_password() -> str:
    # Without a callback OpenSSL would prompt on the terminal; Nomad needs unencrypted keys.
    raise ValueError("the key is encrypted; Nomad's clients need an unencrypted PEM key")


def _reason(error: BaseException) -> str:
    return str(error.strerror if isinstance(error, OSError) and error.strerror else error)
