import httpx
import pytest

from tests.api.helpers import assert_failure, create_topic


async def test_create_topic(client: httpx.AsyncClient) -> None:
    response = await client.post("/topics", json={"topic_name": "Kagenou"})
    assert response.status_code == 200
    assert response.json() == {
        "status": "success",
        "message": "Topic 'Kagenou' created successfully",
    }


async def test_create_topic_accepts_name_alias(client: httpx.AsyncClient) -> None:
    response = await client.post("/topics", json={"name": "orders"})
    assert response.json()["message"] == "Topic 'orders' created successfully"


async def test_duplicate_topic_is_409(client: httpx.AsyncClient) -> None:
    await create_topic(client, "Kagenou")
    response = await client.post("/topics", json={"topic_name": "Kagenou"})
    assert_failure(response, 409, "Kagenou", "already exists")


@pytest.mark.parametrize(
    "name", ["", "a b", "slash/name", "x" * 256, "naïve", "nul\x00byte", "semi;colon"]
)
async def test_bad_topic_name_is_422(client: httpx.AsyncClient, name: str) -> None:
    response = await client.post("/topics", json={"topic_name": name})
    assert_failure(response, 422, "topic_name")
    assert response.json()["errors"][0]["loc"] == ["body", "topic_name"]
    assert (await client.get("/topics")).json()["topics"] == []


@pytest.mark.parametrize("payload", [{}, {"topic_name": 5}, {"topic_name": None}, ["Kagenou"]])
async def test_malformed_create_is_422(client: httpx.AsyncClient, payload: object) -> None:
    response = await client.post("/topics", json=payload)
    assert_failure(response, 422, "Invalid request")
    assert response.json()["errors"]


async def test_invalid_json_is_422(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/topics", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert_failure(response, 422)


async def test_longest_valid_name(client: httpx.AsyncClient) -> None:
    name = "a" * 255
    await create_topic(client, name)
    assert (await client.get("/topics")).json()["topics"] == [name]


async def test_list_is_empty_then_in_creation_order(client: httpx.AsyncClient) -> None:
    assert (await client.get("/topics")).json() == {"status": "success", "topics": []}
    for name in ["Minoru", "Kagenou", "a.b-c_d"]:
        await create_topic(client, name)
    assert (await client.get("/topics")).json() == {
        "status": "success",
        "topics": ["Minoru", "Kagenou", "a.b-c_d"],
    }


async def test_status_reports_database(client: httpx.AsyncClient) -> None:
    body = (await client.get("/status")).json()
    assert body["status"] == "success"
    assert body["database"] == "ok"
    assert body["version"]


async def test_unknown_route_is_json_404(client: httpx.AsyncClient) -> None:
    assert_failure(await client.get("/nope"), 404)


async def test_wrong_method_is_json_405(client: httpx.AsyncClient) -> None:
    assert_failure(await client.put("/producer/produce"), 405)
