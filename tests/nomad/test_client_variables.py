"""Variables: write, read, list across pages, delete, check-and-set."""

from __future__ import annotations

import pytest

from nomad_bridge.nomad import NomadClient, errors


async def test_put_then_read_a_variable(client: NomadClient) -> None:
    written = await client.put_variable("bridge/jobs/web", {"spec": "{}", "id": "web"})
    read = await client.read_variable("bridge/jobs/web")
    assert read.value.items == {"spec": "{}", "id": "web"}
    assert read.value.modify_index == written.modify_index > 0
    assert read.value.namespace == "default"


async def test_a_missing_variable_is_not_found(client: NomadClient) -> None:
    with pytest.raises(errors.NotFound):
        await client.read_variable("bridge/jobs/none")


async def test_cas_zero_creates_only_once(client: NomadClient) -> None:
    await client.put_variable("bridge/once", {"k": "v"}, cas=0)
    with pytest.raises(errors.CasConflict) as conflict:
        await client.put_variable("bridge/once", {"k": "w"}, cas=0)
    assert conflict.value.variable is not None
    assert conflict.value.variable.items == {"k": "v"}


async def test_list_variables_follows_every_page(client: NomadClient) -> None:
    paths = [f"bridge/jobs/j{i}" for i in range(5)]
    for path in paths:
        await client.put_variable(path, {"k": "v"})
    await client.put_variable("other/x", {"k": "v"})

    listed = await client.list_variables("bridge/jobs/", page_size=2)

    assert sorted(meta.path for meta in listed) == paths


async def test_delete_removes_and_deleting_again_succeeds(client: NomadClient) -> None:
    await client.put_variable("bridge/gone", {"k": "v"})
    await client.delete_variable("bridge/gone")
    with pytest.raises(errors.NotFound):
        await client.read_variable("bridge/gone")
    await client.delete_variable("bridge/gone")
