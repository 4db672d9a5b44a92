"""The compilable part of the schema: each GraphQL object type's table and how its fields read.

A field missing here is not compilable: a root field whose selection reaches one is answered
by the resolvers instead (``app.reads.executor``). Every entry mirrors what the type's resolver
does in ``app/schema/types/``; the differential test holds the two to the same answers.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from app.models import Asset, Campaign, Client, Generation, Job, Membership, Scene, User, Workspace
from app.models.enums import (
    AssetKind,
    AssetSource,
    AssetStatus,
    CampaignStatus,
    GenerationKind,
    JobStatus,
    Role,
    SceneStatus,
    ShotType,
    Transition,
)
from app.models.enums import GenerationStatus as StoredGenerationStatus
from app.pagination import Direction
from app.reads import post


def names_of(enum: type[Enum]) -> dict[str, str]:
    return {member.value: member.name for member in enum}


GENERATION_STATUS = {
    StoredGenerationStatus.PENDING.value: "QUEUED",
    StoredGenerationStatus.STARTING.value: "QUEUED",
    StoredGenerationStatus.PROCESSING.value: "RUNNING",
    StoredGenerationStatus.SUCCEEDED.value: "SUCCEEDED",
    StoredGenerationStatus.FAILED.value: "FAILED",
    StoredGenerationStatus.CANCELED.value: "CANCELED",
}


@dataclass(frozen=True, slots=True)
class Column:
    """A stored column, written as ``fmt``: text, int, float, bool, moment, enum, json."""

    name: str
    fmt: str = "text"
    enum: Mapping[str, str] | None = None


@dataclass(frozen=True, slots=True)
class GlobalId:
    type_name: str


@dataclass(frozen=True, slots=True)
class MoneyOf:
    """A Money object: ``amount`` column (or a sum) and its currency column or constant."""

    amount: str
    currency: str | None = None  # a column; None: USD
    nullable: bool = True


@dataclass(frozen=True, slots=True)
class Link:
    """A to-one object through ``column`` (its id), tenancy-filtered like the loaders."""

    target: str
    column: str
    required: bool = False
    json_key: str | None = None  # the id is at this key of the JSON column ``column``


@dataclass(frozen=True, slots=True)
class Listing:
    """A connection of ``target`` rows whose ``parent`` column is this row's id."""

    target: str
    parent: str
    filter: str | None = None  # which filter input it takes (None: no filter or order)
    direction: Direction = Direction.DESC


@dataclass(frozen=True, slots=True)
class Children:
    """A plain list of ``target`` rows under this one, in ``order``."""

    target: str
    parent: str
    order: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Stats:
    kind: str  # client or campaign


@dataclass(frozen=True, slots=True)
class Spend:
    """The actual cost booked for this job (``Job.actualCost``)."""


@dataclass(frozen=True, slots=True)
class ViewerRole:
    """The actor's role in this workspace."""


@dataclass(frozen=True, slots=True)
class Embedded:
    """An object made of this row's own columns (``Job.videoSpecs``)."""

    type_name: str


@dataclass(frozen=True, slots=True)
class Computed:
    """Filled in Python after the statement: ``columns`` are read, ``finish`` makes the value."""

    columns: tuple[str, ...]
    finish: Callable[..., Any]


FieldSpec = (
    Column
    | GlobalId
    | MoneyOf
    | Link
    | Listing
    | Children
    | Stats
    | Spend
    | ViewerRole
    | Embedded
    | Computed
)


@dataclass(frozen=True, slots=True)
class TypeSpec:
    name: str
    table: str
    fields: dict[str, FieldSpec]
    visibility: str = "workspace"  # workspace | self | scene | user
    kinds: Mapping[str, str] = field(default_factory=dict)  # abstract: kind value -> type


def _stamps(created: str = "createdAt") -> dict[str, FieldSpec]:
    return {created: Column("created_at", "moment"), "updatedAt": Column("updated_at", "moment")}


_LISTINGS = {
    "generations": ("Generation", "generation"),
    "jobs": ("Job", "job"),
    "assets": ("Asset", "asset"),
}


def _listings(parent: str) -> dict[str, FieldSpec]:
    return {name: Listing(target, parent, flt) for name, (target, flt) in _LISTINGS.items()}


_ASSET_COMMON: dict[str, FieldSpec] = {
    "id": GlobalId("Asset"),
    "name": Column("name"),
    "kind": Column("kind", "enum", names_of(AssetKind)),
    "format": Column("format"),
    "mimeType": Column("mime_type"),
    "size": Column("size_bytes", "int"),
    "sha256": Column("sha256"),
    "tags": Column("tags", "json"),
    "source": Column("source", "enum", names_of(AssetSource)),
    "status": Column("status", "enum", names_of(AssetStatus)),
    "statusReason": Column("status_reason"),
    **_stamps("uploadedAt"),
    "url": Computed(("id", "status", "storage_key"), post.original_link),
    "workspace": Link("Workspace", "workspace_id", required=True),
    "client": Link("Client", "client_id"),
    "campaign": Link("Campaign", "campaign_id"),
}
_SIZE: dict[str, FieldSpec] = {"width": Column("width", "int"), "height": Column("height", "int")}
_DURATION: dict[str, FieldSpec] = {"duration": Column("duration_seconds", "float")}
_THUMBNAIL: dict[str, FieldSpec] = {
    "thumbnailUrl": Computed(("id", "status", "thumbnail_key"), post.thumbnail_link)
}

TYPES: dict[str, TypeSpec] = {
    "Workspace": TypeSpec(
        "Workspace",
        Workspace.__tablename__,
        {
            "id": GlobalId("Workspace"),
            "name": Column("name"),
            "slug": Column("slug"),
            "isPersonal": Column("is_personal", "bool"),
            **_stamps(),
            "viewerRole": ViewerRole(),
            "clients": Listing("Client", "workspace_id", "client"),
            **_listings("workspace_id"),
            "members": Listing("Membership", "workspace_id", None, Direction.ASC),
        },
        visibility="self",
    ),
    "Client": TypeSpec(
        "Client",
        Client.__tablename__,
        {
            "id": GlobalId("Client"),
            "name": Column("name"),
            "description": Column("description"),
            "brandGuidelines": Computed(("brand_guidelines",), post.brand_guidelines),
            **_stamps(),
            "workspace": Link("Workspace", "workspace_id", required=True),
            "campaigns": Listing("Campaign", "client_id", "campaign"),
            **_listings("client_id"),
            "stats": Stats("client"),
        },
    ),
    "Campaign": TypeSpec(
        "Campaign",
        Campaign.__tablename__,
        {
            "id": GlobalId("Campaign"),
            "name": Column("name"),
            "goal": Column("goal"),
            "status": Column("status", "enum", names_of(CampaignStatus)),
            "brief": Computed(("brief",), post.campaign_brief),
            "budget": MoneyOf("budget", "budget_currency"),
            **_stamps(),
            "client": Link("Client", "client_id", required=True),
            "workspace": Link("Workspace", "workspace_id", required=True),
            **_listings("campaign_id"),
            "stats": Stats("campaign"),
        },
    ),
    "Asset": TypeSpec(
        "Asset",
        Asset.__tablename__,
        {},
        kinds={
            AssetKind.IMAGE.value: "ImageAsset",
            AssetKind.VIDEO.value: "VideoAsset",
            AssetKind.AUDIO.value: "AudioAsset",
            AssetKind.DOCUMENT.value: "DocumentAsset",
        },
    ),
    "ImageAsset": TypeSpec("ImageAsset", Asset.__tablename__, {**_ASSET_COMMON, **_SIZE}),
    "VideoAsset": TypeSpec(
        "VideoAsset", Asset.__tablename__, {**_ASSET_COMMON, **_SIZE, **_DURATION, **_THUMBNAIL}
    ),
    "AudioAsset": TypeSpec(
        "AudioAsset",
        Asset.__tablename__,
        {
            **_ASSET_COMMON,
            **_DURATION,
            "waveformUrl": Computed(("id", "status", "waveform_key"), post.waveform_link),
        },
    ),
    "DocumentAsset": TypeSpec(
        "DocumentAsset",
        Asset.__tablename__,
        {**_ASSET_COMMON, "pageCount": Column("page_count", "int"), **_THUMBNAIL},
    ),
    "Generation": TypeSpec(
        "Generation",
        Generation.__tablename__,
        {
            "id": GlobalId("Generation"),
            "kind": Column("kind", "enum", names_of(GenerationKind)),
            "status": Column("status", "enum", GENERATION_STATUS),
            "model": Column("model"),
            "provider": Column("provider"),
            "simulated": Column("simulated", "bool"),
            "input": Computed(("input",), post.generation_input),
            "predictionId": Column("provider_prediction_id"),
            "errorCode": Column("error_code"),
            "errorMessage": Column("error_message"),
            "estimatedCost": MoneyOf("estimated_cost", "currency"),
            "cost": MoneyOf("cost", "currency"),
            "createdAt": Column("created_at", "moment"),
            "submittedAt": Column("submitted_at", "moment"),
            "startedAt": Column("started_at", "moment"),
            "completedAt": Column("completed_at", "moment"),
            "predictTime": Column("predict_time_seconds", "float"),
            "outputAsset": Link("Asset", "output_asset_id"),
            "client": Link("Client", "client_id"),
            "campaign": Link("Campaign", "campaign_id"),
            "job": Link("Job", "job_id"),
            "scene": Link("Scene", "scene_id"),
            "startImageGeneration": Link("Generation", "input", json_key="child_generation_id"),
        },
    ),
    "Job": TypeSpec(
        "Job",
        Job.__tablename__,
        {
            "id": GlobalId("Job"),
            "status": Column("status", "enum", names_of(JobStatus)),
            "progress": Computed(("progress",), post.job_progress),
            "product": Column("product"),
            "targetAudience": Column("target_audience"),
            "keyMessage": Column("key_message"),
            "callToAction": Column("call_to_action"),
            "style": Column("style"),
            "tone": Column("tone"),
            "visualElements": Column("visual_elements", "json"),
            "musicStyle": Column("music_style"),
            "videoSpecs": Embedded("VideoSpecs"),
            "approved": Column("approved", "bool"),
            "approvedAt": Column("approved_at", "moment"),
            "refinementCount": Column("refinement_count", "int"),
            "feedback": Column("feedback"),
            "estimatedCost": MoneyOf("estimated_cost", "currency"),
            "errorCode": Column("error_code"),
            "errorMessage": Column("error_message"),
            **_stamps(),
            "completedAt": Column("completed_at", "moment"),
            "actualCost": Spend(),
            "scenes": Children("Scene", "job_id", ("number",)),
            "finalVideo": Link("Asset", "final_video_asset_id"),
            "music": Link("Asset", "music_asset_id"),
        },
    ),
    "VideoSpecs": TypeSpec(
        "VideoSpecs",
        Job.__tablename__,
        {
            "duration": Column("duration_seconds", "int"),
            "aspectRatio": Column("aspect_ratio"),
            "resolution": Column("resolution"),
        },
    ),
    "Scene": TypeSpec(
        "Scene",
        Scene.__tablename__,
        {
            "id": GlobalId("Scene"),
            "number": Column("number", "int"),
            "description": Column("description"),
            "script": Column("script"),
            "imagePrompt": Column("image_prompt"),
            "duration": Column("duration_seconds", "float"),
            "shotType": Column("shot_type", "enum", names_of(ShotType)),
            "transition": Column("transition", "enum", names_of(Transition)),
            "status": Column("status", "enum", names_of(SceneStatus)),
            "errorMessage": Column("error_message"),
            "image": Link("Asset", "image_asset_id"),
            "video": Link("Asset", "video_asset_id"),
        },
        visibility="scene",
    ),
    "User": TypeSpec(
        "User",
        User.__tablename__,
        {
            "id": GlobalId("User"),
            "email": Column("email"),
            "name": Column("name"),
            "createdAt": Column("created_at", "moment"),
            "memberships": Children("Membership", "user_id", ("created_at", "id")),
        },
        visibility="user",
    ),
    "Membership": TypeSpec(
        "Membership",
        Membership.__tablename__,
        {
            "id": GlobalId("Membership"),
            "role": Column("role", "enum", names_of(Role)),
            "createdAt": Column("created_at", "moment"),
            "user": Link("User", "user_id", required=True),
            "workspace": Link("Workspace", "workspace_id", required=True),
        },
    ),
}
"""Object types by GraphQL name; ``Asset`` is the interface over its four kinds."""

NODE_TYPES = frozenset(
    {"Workspace", "Client", "Campaign", "Asset", "Generation", "Job", "Scene", "User", "Membership"}
)
"""The global-ID type names ``node`` compiles (Invitation and ApiKey go to the resolvers)."""
