"""What a generation costs: estimated from its request, actual from its outcome."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from app.generation.catalog import GenericParams, ModelSpec
from app.models.enums import BillingBasis

MICRO = Decimal("0.000001")


@dataclass(frozen=True, slots=True)
class Charge:
    basis: BillingBasis
    quantity: Decimal
    unit_price: Decimal
    amount: Decimal

    @property
    def unit(self) -> str:
        return {
            BillingBasis.PER_IMAGE: "image",
            BillingBasis.PER_OUTPUT_SECOND: "second of output",
            BillingBasis.PER_VIDEO: "video",
            BillingBasis.PER_GPU_SECOND: "GPU second",
            BillingBasis.PER_RUN: "run",
        }[self.basis]


def _charge(spec: ModelSpec, quantity: Decimal) -> Charge:
    unit = spec.hardware_rate if spec.billing is BillingBasis.PER_GPU_SECOND else spec.price
    unit = unit or Decimal(0)
    return Charge(spec.billing, quantity, unit, (quantity * unit).quantize(MICRO))


def estimate(spec: ModelSpec, params: GenericParams) -> Charge:
    if spec.billing is BillingBasis.PER_OUTPUT_SECOND:
        return _charge(spec, Decimal(str(snap_duration(spec, params.duration))))
    if spec.billing is BillingBasis.PER_GPU_SECOND:
        return _charge(spec, spec.expected_seconds or Decimal(10))
    return _charge(spec, Decimal(1))


def actual(
    spec: ModelSpec,
    params: GenericParams,
    *,
    predict_seconds: float | None,
    outputs: int,
    simulated: bool = False,
) -> Charge:
    """Per output for official models; predict time x hardware rate for GPU-billed ones. A
    simulated run takes the model's expected GPU time (the stand-in's own says nothing)."""
    if spec.billing is BillingBasis.PER_GPU_SECOND:
        if simulated:
            return estimate(spec, params)
        seconds = Decimal(str(predict_seconds or 0)).quantize(Decimal("0.001"))
        return _charge(spec, seconds)
    if spec.billing is BillingBasis.PER_IMAGE:
        return _charge(spec, Decimal(max(outputs, 1)))
    return estimate(spec, params)


def snap_duration(spec: ModelSpec, duration: float | None) -> float:
    """The duration the model will really produce, and is billed for (``ModelSpec.renders``)."""
    return spec.renders(duration)
