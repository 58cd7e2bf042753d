from fastapi import APIRouter

from app.api.deps import ServiceDep
from app.schemas import CreateTopicRequest, Failure, MessageResponse, TopicsResponse

router = APIRouter(prefix="/topics", tags=["topics"])


@router.post(
    "",
    summary="Create a topic",
    responses={409: {"model": Failure, "description": "Topic exists"}},
)
async def create_topic(body: CreateTopicRequest, service: ServiceDep) -> MessageResponse:
    await service.create_topic(body.topic_name)
    return MessageResponse(message=f"Topic '{body.topic_name}' created successfully")


@router.get("", summary="List topics in creation order")
async def list_topics(service: ServiceDep) -> TopicsResponse:
    return TopicsResponse(topics=await service.list_topics())
