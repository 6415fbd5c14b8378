"""SPEC section 4: saved definitions fit Nomad's variable rules and round-trip."""

from __future__ import annotations

import re

import pytest

from nomad_bridge.jobs.definitions import (
    VARIABLE_ITEMS_MAX_BYTES,
    decode_items,
    decode_job_id,
    definition_path,
    encode_items,
    encode_job_id,
    spec_digest,
)

NOMAD_VARIABLE_PATH = re.compile(r"^[a-zA-Z0-9\-_~/]{1,128}$")  # nomad/structs/variables.go


@pytest.mark.parametrize(
    "job_id", ["web", "web.v2", "café", "a/b", "a b", "~tilde", "..%2F..", "日本語", "x" * 40]
)
def test_any_job_id_encodes_reversibly_into_one_valid_path_segment(job_id: str) -> None:
    path = definition_path("nomad-bridge/jobs", job_id)
    assert NOMAD_VARIABLE_PATH.match(path)
    segment = path.removeprefix("nomad-bridge/jobs/")
    assert "/" not in segment
    assert decode_job_id(segment) == job_id
    assert encode_job_id(job_id) == segment


def test_very_long_job_ids_still_get_a_valid_distinct_path() -> None:
    first, second = "x" * 300, "x" * 299 + "y"
    paths = {definition_path("nomad-bridge/jobs", job_id) for job_id in (first, second)}
    assert len(paths) == 2
    assert all(NOMAD_VARIABLE_PATH.match(path) for path in paths)


def test_spec_digest_ignores_what_nomad_maintains_itself() -> None:
    spec = {"ID": "web", "TaskGroups": [{"Name": "g", "Count": 1}]}
    running = {**spec, "Stop": False, "Status": "running", "Version": 3, "JobModifyIndex": 40}
    stopped = {**spec, "Stop": True, "Status": "dead", "Version": 4, "JobModifyIndex": 50}
    assert spec_digest(running) == spec_digest(stopped)
    assert spec_digest(spec) != spec_digest({**spec, "TaskGroups": [{"Name": "g", "Count": 2}]})


def test_small_specs_are_stored_as_plain_json() -> None:
    spec = {"ID": "web", "TaskGroups": [{"Name": "g", "Count": 1}]}
    items = encode_items("web", spec)
    assert items["encoding"] == "json"
    assert decode_items(items) == ("web", spec)


def test_large_specs_are_compressed_to_fit_nomads_64k_limit() -> None:
    groups = [{"Name": f"group-{i}", "Count": i, "Tasks": [{"Name": "t" * 50}]} for i in range(900)]
    spec = {"ID": "big", "TaskGroups": groups}
    items = encode_items("big", spec)
    assert items["encoding"] == "zlib+base64"
    assert sum(len(k) + len(v) for k, v in items.items()) <= VARIABLE_ITEMS_MAX_BYTES
    assert decode_items(items) == ("big", spec)
