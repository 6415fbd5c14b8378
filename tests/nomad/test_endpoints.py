"""A job ID or variable path is always exactly one percent-encoded path segment."""

from __future__ import annotations

import pytest
from yarl import URL

from nomad_bridge.nomad.endpoints import JOB, JOB_SUMMARY, VARIABLE, encode_segment

HOSTILE_IDS = {
    "..%2F..%2Fv1%2Facl": "..%252F..%252Fv1%252Facl",
    "a b": "a%20b",
    "café": "caf%C3%A9",
    "a/b": "a%2Fb",
    "x?y#z": "x%3Fy%23z",
    "%2F": "%252F",
    "...x": "...x",
}


@pytest.mark.parametrize(("job_id", "segment"), HOSTILE_IDS.items())
def test_a_hostile_job_id_stays_one_segment(job_id: str, segment: str) -> None:
    assert encode_segment(job_id) == segment
    url = JOB_SUMMARY.url(URL("http://127.0.0.1:4646"), job_id)
    assert url.raw_path == f"/v1/job/{segment}/summary"
    assert url.raw_parts[3] == segment  # ('/', 'v1', 'job', <segment>, 'summary')
    assert len(url.raw_parts) == 5


def test_a_variable_path_is_one_segment_too() -> None:
    url = VARIABLE.url(URL("http://127.0.0.1:4646"), "nomad-bridge/jobs/web")
    assert url.raw_path == "/v1/var/nomad-bridge%2Fjobs%2Fweb"


def test_a_path_prefix_of_the_address_is_kept() -> None:
    url = JOB.url(URL("https://proxy.example/nomad/"), "web")
    assert str(url) == "https://proxy.example/nomad/v1/job/web"


def test_an_empty_id_is_refused() -> None:
    with pytest.raises(ValueError, match="empty"):
        JOB.path("")
