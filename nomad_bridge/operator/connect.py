"""python-nomad's client, built from the NOMAD_* environment the way Nomad's own CLI reads it.

python-nomad reads NOMAD_ADDR, NOMAD_TOKEN, NOMAD_NAMESPACE, NOMAD_REGION and the client
certificate itself, but not NOMAD_CACERT, NOMAD_CAPATH, NOMAD_SKIP_VERIFY or
NOMAD_TLS_SERVER_NAME, and it does not verify TLS unless told to. So everything comes from
`NomadSettings` (the bridge's own reading of that environment) and is passed explicitly:

| NOMAD_*                        | requests / python-nomad                                  |
|--------------------------------|----------------------------------------------------------|
| CACERT (else CAPATH)           | `verify=<path>`; without either, `verify=True` (system)  |
| SKIP_VERIFY=true               | `verify=False`                                           |
| CLIENT_CERT + CLIENT_KEY       | `cert=(cert, key)`                                       |
| TLS_SERVER_NAME                | SNI and the name verified, through the session's adapter |
| ADDR=unix:///path/api.sock     | `UnixSocketAdapter` on the session (Nomad's Task API)    |

Requests verifies a CAPATH directory with OpenSSL's hashed-name lookup (`c_rehash`), where
the bridge itself loads every file under it; prefer NOMAD_CACERT for the CLI.
"""

from __future__ import annotations

from typing import Any

import nomad
import requests
import urllib3
from requests.adapters import HTTPAdapter

from nomad_bridge.nomad.settings import NomadSettings
from nomad_bridge.operator.errors import UsageError
from nomad_bridge.operator.unix_socket import UnixSocketAdapter

Verify = bool | str
Cert = tuple[str, str] | tuple[()]


def tls_options(settings: NomadSettings) -> tuple[Verify, Cert]:
    """`verify` and `cert` for requests, as Nomad's Go client would use the same settings."""
    if (settings.client_cert is None) != (settings.client_key is None):
        raise UsageError("NOMAD_CLIENT_CERT and NOMAD_CLIENT_KEY must be given together")
    cert: Cert = ()
    if settings.client_cert is not None and settings.client_key is not None:
        cert = (str(settings.client_cert), str(settings.client_key))
    verify: Verify = True
    if settings.skip_verify:
        verify = False
    elif settings.cacert is not None:
        verify = str(settings.cacert)
    elif settings.capath is not None:
        verify = str(settings.capath)
    return verify, cert


class ServerNameAdapter(HTTPAdapter):
    """Connects with `server_name` as SNI and as the name the certificate must carry."""

    def __init__(self, server_name: str) -> None:
        self.server_name = server_name
        super().__init__()

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        kwargs["server_hostname"] = self.server_name
        super().init_poolmanager(*args, **kwargs)


def connect(settings: NomadSettings, *, timeout_s: float) -> Any:
    """A `nomad.Nomad` for the configured address, token, namespace, region and TLS."""
    verify, cert = tls_options(settings)
    if verify is False:
        # Asked for with NOMAD_SKIP_VERIFY, as with Nomad's CLI: no warning on every request.
        urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)
    session = requests.Session()
    if settings.uses_tls and settings.tls_server_name:
        session.mount("https://", ServerNameAdapter(settings.tls_server_name))
    if settings.unix_socket:
        session.mount("http://", UnixSocketAdapter(settings.unix_socket))
    token = settings.token.get_secret_value() if settings.token is not None else None
    return nomad.Nomad(
        address=str(settings.base_url).rstrip("/"),
        token=token,
        namespace=settings.namespace,
        region=settings.region,
        timeout=timeout_s,
        verify=verify,
        cert=cert,
        session=session,
    )


def display_address(settings: NomadSettings) -> str:
    """NOMAD_ADDR for messages: without any user or password it may carry."""
    if settings.unix_socket:
        return settings.addr
    return str(settings.base_url.with_user(None)).rstrip("/")
