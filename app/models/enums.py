"""Domain enumerations, stored as their lowercase values."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    OWNER = "owner"
    ADMIN = "admin"
    EDITOR = "editor"
    VIEWER = "viewer"


class InvitationStatus(StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    REVOKED = "revoked"
    EXPIRED = "expired"  # reported for a pending invitation past its expiry; never stored


class ApiKeyScope(StrEnum):
    READ_ONLY = "read_only"
    FULL = "full"


class CampaignStatus(StrEnum):
    DRAFT = "draft"
    ACTIVE = "active"
    ARCHIVED = "archived"


class AssetKind(StrEnum):
    IMAGE = "image"
    VIDEO = "video"
    AUDIO = "audio"
    DOCUMENT = "document"


class AssetSource(StrEnum):
    UPLOADED = "uploaded"
    GENERATED = "generated"
    IMPORTED = "imported"


class AssetStatus(StrEnum):
    PENDING = "pending"
    PROCESSING = "processing"
    READY = "ready"
    REJECTED = "rejected"


class GenerationKind(StrEnum):
    IMAGE = "image"
    VIDEO = "video"
    AUDIO = "audio"
    TEXT = "text"


class GenerationStatus(StrEnum):
    PENDING = "pending"
    STARTING = "starting"
    PROCESSING = "processing"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELED = "canceled"


class JobStatus(StrEnum):
    PENDING = "pending"
    STORYBOARD_PROCESSING = "storyboard_processing"
    STORYBOARD_READY = "storyboard_ready"
    VIDEO_PROCESSING = "video_processing"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"


# The lifecycle's end states, defined once: nothing moves a row out of a final state.
GENERATION_FINAL = frozenset(
    {GenerationStatus.SUCCEEDED, GenerationStatus.FAILED, GenerationStatus.CANCELED}
)
GENERATION_STOPPED = GENERATION_FINAL - {GenerationStatus.SUCCEEDED}  # ended without a result
JOB_FINAL = frozenset({JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.CANCELLED})
JOB_WORKING = frozenset(  # a workflow of the job is (or should be) running
    {JobStatus.PENDING, JobStatus.STORYBOARD_PROCESSING, JobStatus.VIDEO_PROCESSING}
)


class AspectRatio(StrEnum):
    LANDSCAPE = "16:9"
    PORTRAIT = "9:16"
    SQUARE = "1:1"


class ShotType(StrEnum):
    WIDE = "wide"
    MEDIUM = "medium"
    CLOSE_UP = "close-up"
    PRODUCT = "product"


class Transition(StrEnum):
    CUT = "cut"
    FADE = "fade"
    DISSOLVE = "dissolve"


class SceneStatus(StrEnum):
    PENDING = "pending"
    IMAGE_PROCESSING = "image_processing"
    IMAGE_READY = "image_ready"
    VIDEO_PROCESSING = "video_processing"
    VIDEO_READY = "video_ready"
    FAILED = "failed"
    CANCELLED = "cancelled"  # its job stopped before this scene was finished


class CostKind(StrEnum):
    ESTIMATE = "estimate"
    ACTUAL = "actual"


class BillingBasis(StrEnum):
    PER_IMAGE = "per_image"
    PER_OUTPUT_SECOND = "per_output_second"
    PER_VIDEO = "per_video"
    PER_GPU_SECOND = "per_gpu_second"
    PER_RUN = "per_run"
