"""docker-compose.yml: PostgreSQL 15 with a healthcheck and a volume, the service waiting
for it to be healthy, and only settings the server really has."""

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from app.settings import Settings

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((REPO / "docker-compose.yml").read_text())
    return loaded


def test_postgres_is_15_with_healthcheck_and_volume(compose: dict[str, Any]) -> None:
    postgres = compose["services"]["postgres"]
    assert postgres["image"] == "postgres:15"
    assert "pg_isready" in " ".join(postgres["healthcheck"]["test"])
    volume = postgres["volumes"][0].split(":")[0]
    assert volume in compose["volumes"]


def test_service_waits_for_healthy_postgres(compose: dict[str, Any]) -> None:
    service = compose["services"]["logqueue"]
    assert service["build"] == "."
    assert service["depends_on"]["postgres"]["condition"] == "service_healthy"
    url = service["environment"]["LOGQUEUE_DATABASE_URL"]
    assert url.startswith("postgresql+asyncpg://") and "@postgres:5432/" in url


def test_environment_names_real_settings(compose: dict[str, Any]) -> None:
    known = {f"LOGQUEUE_{name.upper()}" for name in Settings.model_fields}
    assert set(compose["services"]["logqueue"]["environment"]) <= known


def test_docker_compose_config_accepts_the_file() -> None:
    """Only where a compose client is installed (no engine is needed to parse)."""
    if shutil.which("docker-compose"):
        command = ["docker-compose", "config", "-q"]
    elif (
        shutil.which("docker")
        and subprocess.run(["docker", "compose", "version"], capture_output=True).returncode == 0
    ):
        command = ["docker", "compose", "config", "-q"]
    else:
        pytest.skip("no docker compose client installed")
    result = subprocess.run(command, cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
