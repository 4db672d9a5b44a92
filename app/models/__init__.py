"""SQLModel tables. Importing this package registers every table on ``SQLModel.metadata``."""

from app.models.account import ApiKey, RefreshToken, User
from app.models.asset import Asset, Blob
from app.models.client import Campaign, Client
from app.models.event import JobEvent
from app.models.generation import Generation
from app.models.job import Job, Scene
from app.models.ledger import CostEntry, WebhookDelivery
from app.models.workspace import Invitation, Membership, Workspace

__all__ = [
    "ApiKey",
    "Asset",
    "Blob",
    "Campaign",
    "Client",
    "CostEntry",
    "Generation",
    "Invitation",
    "Job",
    "JobEvent",
    "Membership",
    "RefreshToken",
    "Scene",
    "User",
    "WebhookDelivery",
    "Workspace",
]
