"""The HTTP ceiling: the produce and consume contract with nothing behind it.

It runs under the same uvicorn flags as the real server, so the gap between the two is
what LogQueue itself costs (service, SQL, commit), not what FastAPI and uvicorn cost.
"""

from typing import Annotated, Literal

from fastapi import FastAPI, Query
from pydantic import BaseModel, Field

TopicName = Annotated[str, Field(min_length=1, max_length=255, pattern=r"^[A-Za-z0-9._-]+$")]
ClientId = Annotated[int, Field(ge=1, le=2**53)]


class ProduceRequest(BaseModel):
    topic: TopicName
    producer_id: ClientId
    message: Annotated[str, Field(min_length=1)]


class Produced(BaseModel):
    status: Literal["success"] = "success"
    offset: int


class Consumed(BaseModel):
    status: Literal["success"] = "success"
    message: str
    offset: int


app = FastAPI()
STORED = "x" * 100


@app.get("/status")
async def status() -> dict[str, str]:
    return {"status": "success"}


@app.post("/producer/produce")
async def produce(body: ProduceRequest) -> Produced:
    return Produced(offset=0)


@app.get("/consumer/consume")
async def consume(
    topic: Annotated[TopicName, Query()], consumer_id: Annotated[ClientId, Query()]
) -> Consumed:
    return Consumed(message=STORED, offset=0)
