"""error_for_failure: every TLS failure becomes a `TLSFailure` (an `Unavailable`) whose message
says what failed and which settings to check; other connection failures stay as they were."""

from __future__ import annotations

import ssl

import aiohttp
import pytest

from nomad_bridge.nomad import Unavailable
from nomad_bridge.nomad.errors import TLSFailure, error_for_failure

PATH = "/v1/jobs"
VERIFY_FAILED = ssl.SSLCertVerificationError(
    1,
    "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: "
    "unable to get local issuer certificate (_ssl.c:1006)",
)
CERTIFICATE_REQUIRED = ssl.SSLError(
    1,
    "[SSL: TLSV13_ALERT_CERTIFICATE_REQUIRED] tlsv13 alert certificate required (_ssl.c:2580)",
)
PROTOCOL_VERSION = ssl.SSLError(
    1, "[SSL: TLSV1_ALERT_PROTOCOL_VERSION] tlsv1 alert protocol version (_ssl.c:1006)"
)
BAD_RECORD = ssl.SSLError(
    1,
    "[SSL: DECRYPTION_FAILED_OR_BAD_RECORD_MAC] decryption failed or bad record mac (_ssl.c:2580)",
)


def raised_from(error: aiohttp.ClientError, cause: BaseException) -> aiohttp.ClientError:
    """An aiohttp error as aiohttp raises it: `raise error from cause`."""
    error.__cause__ = cause
    return error


@pytest.mark.parametrize(
    ("failure", "message", "request_sent"),
    [
        (
            VERIFY_FAILED,
            "Nomad's TLS certificate could not be verified: unable to get local issuer "
            "certificate (check NOMAD_CACERT, NOMAD_CAPATH, NOMAD_TLS_SERVER_NAME)",
            False,
        ),
        (
            CERTIFICATE_REQUIRED,
            "Nomad refused the TLS handshake: tlsv13 alert certificate required "
            "(check NOMAD_CLIENT_CERT and NOMAD_CLIENT_KEY)",
            False,
        ),
        (
            raised_from(aiohttp.ClientOSError(*CERTIFICATE_REQUIRED.args), CERTIFICATE_REQUIRED),
            "Nomad refused the TLS handshake: tlsv13 alert certificate required "
            "(check NOMAD_CLIENT_CERT and NOMAD_CLIENT_KEY)",
            False,
        ),
        (
            PROTOCOL_VERSION,
            "Nomad refused the TLS handshake: tlsv1 alert protocol version",
            False,
        ),
        (
            raised_from(aiohttp.ClientOSError(*BAD_RECORD.args), BAD_RECORD),
            "TLS with Nomad failed: decryption failed or bad record mac",
            True,  # mid-exchange: the request may have been read
        ),
    ],
)
def test_a_tls_failure_says_what_failed_and_what_to_check(
    failure: aiohttp.ClientError | OSError, message: str, request_sent: bool
) -> None:
    error = error_for_failure(failure, PATH)
    assert isinstance(error, TLSFailure)
    assert isinstance(error, Unavailable)
    assert (error.message, error.path, error.request_sent) == (message, PATH, request_sent)
    assert "_ssl.c" not in str(error)


def test_a_reset_connection_is_not_a_tls_failure() -> None:
    failure = raised_from(aiohttp.ClientOSError(104, "Connection reset by peer"), OSError(104))
    error = error_for_failure(failure, PATH)
    assert type(error) is Unavailable
