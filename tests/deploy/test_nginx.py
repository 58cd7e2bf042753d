"""The sample reverse-proxy config parses, and holds the slow-client limits the README
promises it does."""

from pathlib import Path
from typing import Any

import crossplane

CONFIG = Path(__file__).parents[2] / "deploy" / "nginx.conf"


def directives(block: list[dict[str, Any]]) -> dict[str, list[str]]:
    return {d["directive"]: d["args"] for d in block}


def test_the_sample_nginx_config_parses_and_guards_against_slow_clients() -> None:
    parsed = crossplane.parse(str(CONFIG), single=True, check_ctx=False, strict=True)
    assert parsed["status"] == "ok", parsed["errors"]
    top = parsed["config"][0]["parsed"]
    upstream = next(d for d in top if d["directive"] == "upstream")
    assert directives(upstream["block"])["server"] == ["127.0.0.1:8000"]
    server = next(d for d in top if d["directive"] == "server")["block"]
    limits = directives(server)
    for name in ("client_header_timeout", "client_body_timeout", "large_client_header_buffers"):
        assert name in limits
    assert limits["client_max_body_size"] == ["16m"]
    locations = [d for d in server if d["directive"] == "location"]
    assert all(directives(loc["block"])["proxy_pass"] == ["http://logqueue"] for loc in locations)
    stream = next(loc for loc in locations if "stream" in loc["args"][-1])
    assert directives(stream["block"])["proxy_buffering"] == ["off"]
