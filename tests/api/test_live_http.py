"""The HTTP contract over a real socket: a real uvicorn process, a plain sync client,
as the original assignment's clients (``requests``) used it."""

import httpx

from tests.live_server import LiveServer


def test_course_quick_check(live_server: LiveServer) -> None:
    with httpx.Client(base_url=live_server.url) as http:
        first = http.post("/topics", json={"topic_name": "Kagenou"})
        assert (first.status_code, first.json()) == (
            200,
            {"status": "success", "message": "Topic 'Kagenou' created successfully"},
        )
        again = http.post("/topics", json={"topic_name": "Kagenou"})
        assert again.status_code == 409
        assert again.json() == {
            "status": "failure",
            "error": "topic_exists",
            "message": "Topic 'Kagenou' already exists",
        }
        assert http.post("/topics", json={"topic_name": "Minoru"}).status_code == 200
        topics = http.get("/topics").json()["topics"]
        assert topics.index("Kagenou") < topics.index("Minoru")
        producer = http.post("/producer/register", json={"topic": "Minoru"}).json()
        consumer = http.post("/consumer/register", json={"topic": "Minoru"}).json()
        assert producer["status"] == consumer["status"] == "success"
        assert isinstance(producer["producer_id"], int)
        assert isinstance(consumer["consumer_id"], int)


def test_produce_consume_size_over_http(live_server: LiveServer) -> None:
    with httpx.Client(base_url=live_server.url) as http:
        producer_id = http.post("/producer/register", json={"topic": "live"}).json()["producer_id"]
        consumer_id = http.post("/consumer/register", json={"topic": "live"}).json()["consumer_id"]
        for i in range(3):
            sent = http.post(
                "/producer/produce",
                json={"topic": "live", "producer_id": producer_id, "message": f"line {i}"},
            )
            assert sent.json() == {"status": "success", "offset": i}
        query = {"topic": "live", "consumer_id": consumer_id}
        assert http.get("/size", params=query).json()["size"] == 3
        got = [http.get("/consumer/consume", params=query).json() for _ in range(4)]
        assert [g.get("message") for g in got[:3]] == ["line 0", "line 1", "line 2"]
        assert got[3] == {"status": "failure", "message": "no new messages"}
        # Old clients: JSON body on GET.
        assert http.request("GET", "/size", json=query).json()["size"] == 0


def test_errors_are_json_over_http(live_server: LiveServer) -> None:
    with httpx.Client(base_url=live_server.url) as http:
        missing = http.post("/consumer/register", json={"topic": "never-made"})
        assert missing.status_code == 404
        assert missing.headers["content-type"].startswith("application/json")
        bad = http.post("/producer/produce", json={"topic": "live", "message": 5})
        assert bad.status_code == 422
        body = bad.json()
        assert body["status"] == "failure"
        assert {tuple(e["loc"]) for e in body["errors"]} >= {
            ("body", "producer_id"),
            ("body", "message"),
        }


def test_swagger_ui_and_openapi(live_server: LiveServer) -> None:
    with httpx.Client(base_url=live_server.url) as http:
        assert "swagger-ui" in http.get("/docs").text
        paths = http.get("/openapi.json").json()["paths"]
        assert {
            "/status",
            "/topics",
            "/producer/register",
            "/producer/produce",
            "/consumer/register",
            "/consumer/consume",
            "/size",
        } <= set(paths)
