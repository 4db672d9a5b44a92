"""Every connection the schema lists, as (table, parent column), with a filter for each."""

from __future__ import annotations

from typing import Any

from app.models import Asset, Campaign, Client, Generation, Job
from app.models.enums import CampaignStatus, GenerationStatus, JobStatus
from app.services.listing import (
    AssetFilter,
    CampaignFilter,
    Filter,
    GenerationFilter,
    JobFilter,
    NoFilter,
    OrderField,
)

PAIRS: list[tuple[type[Any], str]] = [
    (Client, "workspace_id"),
    (Campaign, "client_id"),
    *((Asset, parent) for parent in ("workspace_id", "client_id", "campaign_id")),
    *((Generation, parent) for parent in ("workspace_id", "client_id", "campaign_id")),
    *((Job, parent) for parent in ("workspace_id", "client_id", "campaign_id")),
]
FILTERS: dict[type[Any], Filter] = {
    Client: NoFilter(),
    Campaign: CampaignFilter(statuses=(CampaignStatus.DRAFT, CampaignStatus.ACTIVE)),
    Asset: AssetFilter(),
    Generation: GenerationFilter(statuses=(GenerationStatus.SUCCEEDED,)),
    Job: JobFilter(statuses=(JobStatus.COMPLETED,)),
}


def ordering_of(model: type[Any]) -> list[OrderField]:
    """The orderings a table's rows can be listed in (jobs and generations have no name)."""
    return [order for order in OrderField if hasattr(model, order.value)]


def pair_id(value: Any) -> str:
    return str(getattr(value, "__name__", value))
