"""Contract: the simulator's Variables API answers like Nomad v1.9.x.

`GET/PUT/DELETE /v1/var/:path` with `?cas=`, and `GET /v1/vars`. Sources:
api-docs/variables/variables.mdx; command/agent/variable_endpoint.go (VariableSpecificRequest,
variableQuery, variableUpsert, variableDelete, parseCAS); nomad/variables_endpoint.go
(Variables.Apply, makeVariablesApplyResponse, List); nomad/state/state_store_variables.go
(varSetCASTxn, varSetTxn, svDeleteCASTxn); nomad/structs/variables.go (Validate,
validatePath, maxVariableSize); nomad/encrypter.go (Encrypt).
"""

from __future__ import annotations

from typing import Any

from tests.sim.harness import NomadHttp

MAX_VARIABLE_BYTES = 65536


async def _put(http: NomadHttp, path: str, items: dict[str, str], **params: str) -> Any:
    answer = await http.put(f"/v1/var/{path}", body={"Items": items}, params=params or None)
    assert answer.status == 200, answer.text
    return answer.json()


async def test_read_of_a_missing_variable_is_404_variable_not_found(http: NomadHttp) -> None:
    """Reading a variable that does not exist is 404 `variable not found` (plain text), with
    the query headers still set.

    Source: command/agent/variable_endpoint.go variableQuery (setMeta, then
    CodedError(404, "variable not found")); command/agent/http.go wrap.
    """
    answer = await http.get("/v1/var/nothing/here")

    assert answer.status == 404
    assert answer.text == "variable not found"
    assert answer.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert answer.headers["X-Nomad-KnownLeader"] == "true"
    assert int(answer.headers["X-Nomad-Index"]) >= 0


async def test_put_answers_the_stored_variable(http: NomadHttp) -> None:
    """PUT answers the stored variable: Namespace, Path, CreateIndex, ModifyIndex, CreateTime,
    ModifyTime and Items; X-Nomad-Index is the write's index.

    Source: api-docs/variables/variables.mdx "Create Variable"; command/agent/
    variable_endpoint.go variableUpsert (returns out.Output, setIndex); nomad/
    variables_endpoint.go makeVariablesApplyResponse.
    """
    answer = await http.put("/v1/var/app/config", body={"Items": {"color": "blue"}})

    assert answer.status == 200, answer.text
    body = answer.json()
    assert body["Namespace"] == "default"
    assert body["Path"] == "app/config"
    assert body["Items"] == {"color": "blue"}
    assert body["CreateIndex"] == body["ModifyIndex"] > 0
    assert body["CreateTime"] > 0
    assert body["ModifyTime"] >= body["CreateTime"]
    assert answer.index == body["ModifyIndex"]
    read = (await http.get("/v1/var/app/config")).json()
    assert read["Items"] == {"color": "blue"}
    assert read["ModifyIndex"] == body["ModifyIndex"]


async def test_put_accepts_post_as_well(http: NomadHttp) -> None:
    """Writing a variable takes POST as well as PUT.

    Source: command/agent/variable_endpoint.go VariableSpecificRequest
    (case http.MethodPut, http.MethodPost → variableUpsert).
    """
    answer = await http.post("/v1/var/app/posted", body={"Items": {"k": "v"}})

    assert answer.status == 200, answer.text
    assert (await http.get("/v1/var/app/posted")).json()["Items"] == {"k": "v"}


async def test_path_comes_from_the_url_not_the_body(http: NomadHttp) -> None:
    """The body's Path is overwritten by the URL's path.

    Source: command/agent/variable_endpoint.go variableUpsert (Variable.Path = path).
    """
    answer = await http.put("/v1/var/from/url", body={"Path": "from/body", "Items": {"k": "v"}})

    assert answer.json()["Path"] == "from/url"
    assert (await http.get("/v1/var/from/body")).status == 404


async def test_rewriting_identical_content_still_writes(http: NomadHttp) -> None:
    """Over HTTP, PUTting the same Items again is a new write: ModifyIndex grows, CreateIndex
    stays. The state store's "unchanged" shortcut compares the encrypted entry, and every
    HTTP write carries a fresh ModifyTime and a fresh random nonce, so it never matches.

    Source: nomad/variables_endpoint.go Variables.Apply (ev.ModifyTime = now; sv.encrypt);
    nomad/encrypter.go Encrypt (random nonce per call); nomad/state/state_store_variables.go
    varSetTxn (existing.Equal(*sv) compares metadata and ciphertext);
    nomad/structs/variables.go VariableEncrypted.Equal.
    """
    first = await _put(http, "same/content", {"k": "v"})

    second = await _put(http, "same/content", {"k": "v"})

    assert second["CreateIndex"] == first["CreateIndex"]
    assert second["ModifyIndex"] > first["ModifyIndex"]


async def test_cas_zero_creates_an_absent_variable(http: NomadHttp) -> None:
    """`?cas=0` writes when the variable does not exist yet.

    Source: api-docs/variables/variables.mdx (`cas`); nomad/state/state_store_variables.go
    varSetCASTxn (ModifyIndex 0 means set-if-not-exists).
    """
    answer = await http.put("/v1/var/cas/new", body={"Items": {"a": "1"}}, params={"cas": "0"})

    assert answer.status == 200, answer.text
    assert answer.json()["Items"] == {"a": "1"}


async def test_cas_zero_on_an_existing_variable_is_409_with_the_variable(
    http: NomadHttp,
) -> None:
    """`?cas=0` on an existing variable is 409 whose JSON body is the stored variable
    (Items included when the caller may read it); X-Nomad-Index is its ModifyIndex; nothing
    is written.

    Source: command/agent/variable_endpoint.go variableUpsert (out.Conflict → setIndex,
    WriteHeader(409), return the conflict); nomad/variables_endpoint.go
    makeVariablesApplyResponse.
    """
    stored = await _put(http, "cas/existing", {"a": "1"})

    answer = await http.put("/v1/var/cas/existing", body={"Items": {"a": "2"}}, params={"cas": "0"})

    assert answer.status == 409
    conflict = answer.json()
    assert conflict["Path"] == "cas/existing"
    assert conflict["Namespace"] == "default"
    assert conflict["ModifyIndex"] == stored["ModifyIndex"]
    assert conflict["Items"] == {"a": "1"}
    assert answer.index == stored["ModifyIndex"]
    assert (await http.get("/v1/var/cas/existing")).json()["Items"] == {"a": "1"}


async def test_cas_with_the_current_modify_index_writes(http: NomadHttp) -> None:
    """`?cas=<ModifyIndex>` writes when it is the variable's current ModifyIndex.

    Source: nomad/state/state_store_variables.go varSetCASTxn.
    """
    stored = await _put(http, "cas/match", {"a": "1"})

    updated = await _put(http, "cas/match", {"a": "2"}, cas=str(stored["ModifyIndex"]))

    assert updated["Items"] == {"a": "2"}
    assert updated["ModifyIndex"] > stored["ModifyIndex"]


async def test_cas_mismatch_is_409_with_the_current_variable(http: NomadHttp) -> None:
    """`?cas=<stale index>` is 409 with the current variable as JSON; nothing is written.

    Source: nomad/state/state_store_variables.go varSetCASTxn (ModifyIndex differs →
    ConflictResponse with the existing entry).
    """
    first = await _put(http, "cas/stale", {"a": "1"})
    second = await _put(http, "cas/stale", {"a": "2"})

    answer = await http.put(
        "/v1/var/cas/stale",
        body={"Items": {"a": "3"}},
        params={"cas": str(first["ModifyIndex"])},
    )

    assert answer.status == 409
    conflict = answer.json()
    assert conflict["ModifyIndex"] == second["ModifyIndex"]
    assert conflict["Items"] == {"a": "2"}
    assert (await http.get("/v1/var/cas/stale")).json()["Items"] == {"a": "2"}


async def test_cas_nonzero_on_an_absent_variable_is_409_with_only_namespace_and_path(
    http: NomadHttp,
) -> None:
    """`?cas=N` (N > 0) on an absent variable is 409 whose body is a zero value holding only
    Namespace and Path; nothing is created.

    Source: nomad/state/state_store_variables.go varSetCASTxn ("return a plausible zero
    value as the conflict"); nomad/variables_endpoint.go makeVariablesApplyResponse
    (KeyID "" → only Namespace and Path).
    """
    answer = await http.put("/v1/var/cas/ghost", body={"Items": {"a": "1"}}, params={"cas": "7"})

    assert answer.status == 409
    conflict = answer.json()
    assert conflict["Namespace"] == "default"
    assert conflict["Path"] == "cas/ghost"
    assert not conflict.get("Items")
    assert not conflict.get("ModifyIndex")
    assert not conflict.get("CreateIndex")
    assert (await http.get("/v1/var/cas/ghost")).status == 404


async def test_delete_is_204_with_an_empty_body(http: NomadHttp) -> None:
    """DELETE answers 204 with no body (the docs' sample body is wrong) and the variable is
    gone.

    Source: command/agent/variable_endpoint.go variableDelete
    (resp.WriteHeader(http.StatusNoContent); return nil, nil).
    """
    await _put(http, "del/me", {"k": "v"})

    answer = await http.delete("/v1/var/del/me")

    assert answer.status == 204
    assert answer.body == b""
    assert (await http.get("/v1/var/del/me")).status == 404


async def test_delete_of_a_missing_variable_succeeds(http: NomadHttp) -> None:
    """Deleting a variable that does not exist is a success (204).

    Source: nomad/state/state_store_variables.go svDeleteTxn (absent → SuccessResponse).
    """
    answer = await http.delete("/v1/var/del/never")

    assert answer.status == 204


async def test_delete_with_stale_cas_is_409_and_keeps_the_variable(http: NomadHttp) -> None:
    """DELETE `?cas=<stale index>` is 409 with the current variable; it is not deleted.

    Source: nomad/state/state_store_variables.go svDeleteCASTxn; command/agent/
    variable_endpoint.go variableDelete (out.Conflict → 409).
    """
    first = await _put(http, "del/cas", {"k": "1"})
    second = await _put(http, "del/cas", {"k": "2"})

    answer = await http.delete("/v1/var/del/cas", params={"cas": str(first["ModifyIndex"])})

    assert answer.status == 409
    assert answer.json()["ModifyIndex"] == second["ModifyIndex"]
    assert (await http.get("/v1/var/del/cas")).status == 200


async def test_delete_with_current_cas_deletes(http: NomadHttp) -> None:
    """DELETE `?cas=<current ModifyIndex>` deletes the variable (204).

    Source: nomad/state/state_store_variables.go svDeleteCASTxn.
    """
    stored = await _put(http, "del/cas-ok", {"k": "1"})

    answer = await http.delete("/v1/var/del/cas-ok", params={"cas": str(stored["ModifyIndex"])})

    assert answer.status == 204
    assert (await http.get("/v1/var/del/cas-ok")).status == 404


async def test_put_without_items_is_400(http: NomadHttp) -> None:
    """A PUT without Items (or with none) is 400 `variable missing required Items object`.

    Source: command/agent/variable_endpoint.go variableUpsert (len(Variable.Items) == 0 →
    CodedError(http.StatusBadRequest, ...)).
    """
    bodies: list[dict[str, object]] = [{"Items": {}}, {"Namespace": "default"}]
    for body in bodies:
        answer = await http.put("/v1/var/no/items", body=body)

        assert answer.status == 400, body
        assert answer.text == "variable missing required Items object", body


async def test_invalid_path_is_refused_with_invalid_path_text(http: NomadHttp) -> None:
    """A path outside ^[a-zA-Z0-9-_~/]{1,128}$ is refused with `invalid path "<p>"`; the
    error carries no HTTP code, so Nomad's HTTP layer answers 500.

    Source: nomad/structs/variables.go validatePath (fmt.Errorf("invalid path %q"));
    nomad/variables_endpoint.go canonicalizeAndValidate; command/agent/http.go wrap
    (uncoded error → 500).
    """
    answer = await http.put("/v1/var/bad.path", body={"Items": {"k": "v"}})

    assert answer.status == 500
    assert answer.text == 'invalid path "bad.path"'
    assert (await http.get("/v1/var/bad.path")).status == 404


async def test_variable_over_64kib_is_refused(http: NomadHttp) -> None:
    """Items whose keys and values total more than 65536 bytes are refused with
    `variables are limited to 64KiB in total size` (500, an uncoded error).

    Source: nomad/structs/variables.go VariableDecrypted.Validate (Items.Size() >
    maxVariableSize); command/agent/http.go wrap.
    """
    answer = await http.put("/v1/var/too/big", body={"Items": {"k": "x" * MAX_VARIABLE_BYTES}})

    assert answer.status == 500
    assert answer.text == "variables are limited to 64KiB in total size"
    assert (await http.get("/v1/var/too/big")).status == 404


async def test_variable_of_exactly_64kib_is_accepted(http: NomadHttp) -> None:
    """The limit is inclusive: keys plus values of exactly 65536 bytes are accepted.

    Source: nomad/structs/variables.go (maxVariableSize = 65536; refused only when `>`).
    """
    items = {"k": "x" * (MAX_VARIABLE_BYTES - 1)}

    answer = await http.put("/v1/var/just/fits", body={"Items": items})

    assert answer.status == 200, answer.text[:200]


async def test_wrong_method_on_a_variable_is_400_invalid_method(http: NomadHttp) -> None:
    """An unsupported method on /v1/var/:path is 400 (not 405) `Invalid method`.

    Source: command/agent/variable_endpoint.go VariableSpecificRequest (default:
    CodedError(http.StatusBadRequest, ErrInvalidMethod)).
    """
    answer = await http.call("PATCH", "/v1/var/some/path", body={"Items": {"k": "v"}})

    assert answer.status == 400
    assert answer.text == "Invalid method"


async def test_list_returns_metadata_without_items(http: NomadHttp) -> None:
    """GET /v1/vars lists VariableMetadata (Namespace, Path, indexes, times) without Items,
    filtered by `prefix`; an empty result is [].

    Source: api-docs/variables/variables.mdx "List Variables"; nomad/variables_endpoint.go
    Variables.List (VariableMetadata stubs); command/agent/variable_endpoint.go
    VariablesListRequest (nil → []).
    """
    a = await _put(http, "list/a", {"k": "1"})
    await _put(http, "list/b", {"k": "2"})
    await _put(http, "other/c", {"k": "3"})

    listed = (await http.get("/v1/vars", params={"prefix": "list/"})).json()
    empty = (await http.get("/v1/vars", params={"prefix": "nothing/"})).json()

    assert [v["Path"] for v in listed] == ["list/a", "list/b"]
    for meta in listed:
        assert "Items" not in meta
        assert meta["Namespace"] == "default"
        assert set(meta) >= {"CreateIndex", "ModifyIndex", "CreateTime", "ModifyTime"}
    assert listed[0]["ModifyIndex"] == a["ModifyIndex"]
    assert empty == []


async def test_variable_read_index_is_its_modify_index(http: NomadHttp) -> None:
    """Reading a variable reports its ModifyIndex as X-Nomad-Index.

    Source: nomad/variables_endpoint.go Variables.Read (reply.Index = out.ModifyIndex).
    """
    await _put(http, "idx/var", {"k": "1"})
    stored = await _put(http, "idx/var", {"k": "2"})
    await _put(http, "idx/other", {"k": "3"})

    answer = await http.get("/v1/var/idx/var")

    assert answer.index == stored["ModifyIndex"]


async def test_non_string_item_value_is_400(http: NomadHttp) -> None:
    """Items values must be strings: a number is 400 `json: cannot unmarshal number ...`.

    Source: nomad/structs/variables.go VariableItems (map[string]string);
    command/agent/variable_endpoint.go variableUpsert (decodeBody error → 400).
    """
    answer = await http.put("/v1/var/typed", body={"Items": {"k": 5}})

    assert answer.status == 400
    assert answer.text.startswith("json: cannot unmarshal number")
