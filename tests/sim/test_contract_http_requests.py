"""Contract: the HTTP layer of Nomad v1.9.x's job endpoints, as a client sees it on the wire.

Methods, unknown paths, plain-text error bodies, percent-encoded job IDs and how Nomad routes
them, body decoding errors, and the job list's query parameters. Each test pins one fact and
names its source: Nomad's docs (`website/content/api-docs/*.mdx`) or Go code at v1.9.x
(`command/agent/http.go`, `command/agent/job_endpoint.go`, `nomad/state/paginator`).
"""

from __future__ import annotations

from tests.sim.harness import NomadHttp, read_job, register
from tests.support import job_spec

# --- methods, paths and error bodies ----------------------------------------------------------


async def test_wrong_method_is_405_invalid_method(http: NomadHttp) -> None:
    """An unsupported method on a job route is 405 `Invalid method`.

    Source: command/agent/job_endpoint.go JobsRequest and jobCRUD (CodedError(405,
    ErrInvalidMethod)); command/agent/http.go ErrInvalidMethod = "Invalid method".
    """
    for method, path in (("PATCH", "/v1/jobs"), ("DELETE", "/v1/jobs"), ("PATCH", "/v1/job/x")):
        answer = await http.call(method, path)

        assert answer.status == 405, (method, path)
        assert answer.text == "Invalid method", (method, path)


async def test_unknown_path_is_404_with_empty_body(http: NomadHttp) -> None:
    """A path no handler serves is 404 with an empty body.

    Source: command/agent/http.go handleRootFallthrough (w.WriteHeader(http.StatusNotFound)).
    """
    answer = await http.get("/v1/no-such-endpoint")

    assert answer.status == 404
    assert answer.body == b""


async def test_error_bodies_are_plain_text(http: NomadHttp) -> None:
    """Errors are `text/plain; charset=utf-8` bodies holding only the message.

    Source: command/agent/http.go wrap (resp.Header().Set(contentTypeHeader,
    plainContentType); resp.Write([]byte(errMsg))).
    """
    await register(http, job_spec("plain"))
    answers = [
        await http.get("/v1/job/absent"),
        await http.put("/v1/jobs", data=b""),
        await http.call("PATCH", "/v1/jobs"),
        await http.put(
            "/v1/jobs", body={"Job": job_spec("plain"), "EnforceIndex": True, "JobModifyIndex": 0}
        ),
    ]

    assert [a.status for a in answers] == [404, 400, 405, 500]
    for answer in answers:
        assert answer.headers["Content-Type"] == "text/plain; charset=utf-8"
        assert not answer.text.startswith("{")


# --- percent-encoded job IDs ------------------------------------------------------------------


async def test_job_id_with_encoded_slash_is_read_back(http: NomadHttp) -> None:
    """A job ID holding `/` is reachable percent-encoded: /v1/job/a%2Fb reads job "a/b".

    Source: command/agent/job_endpoint.go JobSpecificRequest (trims "/v1/job/" from the
    decoded req.URL.Path; no suffix matches, so jobCRUD gets "a/b").
    """
    await register(http, job_spec("a/b"))

    job = await read_job(http, "a%2Fb")
    summary = await http.get("/v1/job/a%2Fb/summary")

    assert job["ID"] == "a/b"
    assert summary.status == 200
    assert summary.json()["JobID"] == "a/b"


async def test_job_id_with_utf8_is_read_back(http: NomadHttp) -> None:
    """A non-ASCII job ID is reachable percent-encoded as UTF-8: /v1/job/caf%C3%A9.

    Source: command/agent/job_endpoint.go JobSpecificRequest (decoded req.URL.Path);
    nomad/structs/structs.go Job.Validate (only spaces and NUL are refused in an ID).
    """
    await register(http, job_spec("café"))

    job = await read_job(http, "caf%C3%A9")

    assert job["ID"] == "café"


async def test_encoded_slash_before_a_sub_resource_name_routes_to_that_sub_resource(
    http: NomadHttp,
) -> None:
    """Nomad routes on the decoded path by suffix: /v1/job/web%2Fsummary is web's summary.

    A client must therefore never let a job name decide the endpoint. Source:
    command/agent/job_endpoint.go JobSpecificRequest (strings.HasSuffix(path, "/summary")
    on req.URL.Path, which is already decoded).
    """
    await register(http, job_spec("web"))

    answer = await http.get("/v1/job/web%2Fsummary")

    assert answer.status == 200
    body = answer.json()
    assert body["JobID"] == "web"
    assert "Summary" in body


# --- decoding errors --------------------------------------------------------------------------


async def test_malformed_json_body_is_400_with_the_decoder_message(http: NomadHttp) -> None:
    """A body that is not JSON is 400 with Go's decoder message (`invalid character ...`).

    Source: command/agent/http.go decodeBody (json.Decoder); job_endpoint.go jobUpdate
    (CodedError(400, err.Error())).
    """
    answer = await http.put("/v1/jobs", data=b"{not json")

    assert answer.status == 400
    assert answer.text.startswith("invalid character")


async def test_wrongly_typed_field_is_400_cannot_unmarshal(http: NomadHttp) -> None:
    """A field of the wrong JSON type is 400 with Go's `json: cannot unmarshal ...` message.

    Source: command/agent/http.go decodeBody; encoding/json UnmarshalTypeError.
    """
    answer = await http.put("/v1/jobs", body={"Job": {"ID": 5}})

    assert answer.status == 400
    assert answer.text.startswith("json: cannot unmarshal number")


# --- list query parameters --------------------------------------------------------------------


async def test_list_pagination_uses_next_token_of_namespace_dot_id(http: NomadHttp) -> None:
    """`per_page` pages the list; X-Nomad-NextToken is `<namespace>.<id>` of the first job of
    the next page, which that page includes; the last page has no token.

    Source: api-docs/jobs.mdx "List Jobs" (`per_page`, `next_token`); command/agent/http.go
    setNextToken; nomad/state/paginator/tokenizer.go (WithNamespace, WithID).
    """
    for job_id in ("page-a", "page-b", "page-c"):
        await register(http, job_spec(job_id))

    first = await http.get("/v1/jobs", params={"per_page": "2"})
    token = first.headers["X-Nomad-NextToken"]
    second = await http.get("/v1/jobs", params={"per_page": "2", "next_token": token})

    assert [s["ID"] for s in first.json()] == ["page-a", "page-b"]
    assert token == "default.page-c"
    assert [s["ID"] for s in second.json()] == ["page-c"]
    assert "X-Nomad-NextToken" not in second.headers


async def test_bad_stale_value_is_400(http: NomadHttp) -> None:
    """A `stale` value that is not a bool is 400
    "Expect `true` or `false` for `stale` query string parameter" (some versions append
    ", got <value>").

    Source: command/agent/http.go parseConsistency (strconv.ParseBool; since PR #15605).
    """
    answer = await http.get("/v1/jobs", params={"stale": "maybe"})

    assert answer.status == 400
    assert answer.text.startswith("Expect `true` or `false` for `stale` query string parameter")


async def test_bad_meta_bool_is_500(http: NomadHttp) -> None:
    """A `meta` value that is not a bool is 500 (an uncoded error)
    `Failed to parse value of "meta" (...) as a bool: ...`.

    Source: command/agent/http.go parseBool (fmt.Errorf); job_endpoint.go jobListRequest.
    """
    answer = await http.get("/v1/jobs", params={"meta": "maybe"})

    assert answer.status == 500
    assert answer.text.startswith('Failed to parse value of "meta" (maybe) as a bool')


async def test_bad_purge_bool_is_500(http: NomadHttp) -> None:
    """A `purge` value that is not a bool is 500
    `Failed to parse value of "purge" (...) as a bool: ...`, and nothing is stopped.

    Source: command/agent/job_endpoint.go jobDelete (fmt.Errorf → 500).
    """
    await register(http, job_spec("purge-bad"))

    answer = await http.delete("/v1/job/purge-bad", params={"purge": "maybe"})

    assert answer.status == 500
    assert answer.text.startswith('Failed to parse value of "purge" (maybe) as a bool')
    assert (await read_job(http, "purge-bad"))["Stop"] is False
