"""Money and the stats objects (``ClientStats``, ``CampaignStats``) as SQL that builds JSON.

A stats object's aggregates are computed once per owner row, in one fenced sub-select (the
dialect's ``fence`` keeps the database from folding it into each place a value is used), and
every field reads them from there: ``averageCost`` reuses the completed-jobs count that
``videoCount`` reads, and no amount is evaluated twice.
"""

from __future__ import annotations

from graphql.execution.collect_fields import FieldDetails

from app.reads.dialect import Sql, quote
from app.reads.statement import NotCompilable, Statement

AGGREGATES = {
    "campaigns": "(SELECT count(*) FROM campaign x WHERE x.client_id = {a}.id)",
    "videos": "(SELECT count(*) FROM job x WHERE x.{owner} = {a}.id AND x.status = 'completed')",
    "spend": (
        "(SELECT sum(x.amount) FROM cost_entry x WHERE x.{owner} = {a}.id AND x.kind = 'actual')"
    ),
    "simulated": (
        "(SELECT sum(x.amount) FROM cost_entry x WHERE x.{owner} = {a}.id"
        " AND x.kind = 'actual' AND x.simulated)"
    ),
    # What the campaign's completed jobs were charged (``app.services.stats``).
    "completed": (
        "(SELECT sum(x.amount) FROM cost_entry x WHERE x.kind = 'actual' AND x.job_id IN"
        " (SELECT j.id FROM job j WHERE j.campaign_id = {a}.id AND j.status = 'completed'))"
    ),
}
_NEEDS = {
    "campaignCount": ("campaigns",),
    "videoCount": ("videos",),
    "totalSpend": ("spend",),
    "simulatedSpend": ("simulated",),
    "averageCost": ("videos", "completed"),
}
ROW = "sx"  # the alias of the one-row sub-select of aggregates


def money_object(
    st: Statement, amount: str, currency: str, details: list[FieldDetails], nullable: bool
) -> Sql:
    """A ``Money`` object of the SQL ``amount`` (NULL: no object when ``nullable``, else 0)."""
    fields = st.subfields(st.object_type("Money"), details)
    pairs: list[tuple[str, Sql]] = []
    for key, field_details in fields.items():
        name = field_details[0].node.name.value
        if name == "amount":
            pairs.append((key, st.dialect.money(amount)))
        elif name == "currency":
            pairs.append((key, Sql(currency)))
        else:
            pairs.append((key, Sql("'Money'")))
    value = st.dialect.obj(pairs)
    if not nullable:
        return value
    return Sql(
        f"(CASE WHEN {amount} IS NULL THEN NULL ELSE {st.dialect.embed(value)} END)", json=True
    )


def stats_sql(st: Statement, kind: str, alias: str, details: list[FieldDetails]) -> Sql:
    """The stats object of the client or campaign row ``alias``."""
    type_name = "ClientStats" if kind == "client" else "CampaignStats"
    owner = "client_id" if kind == "client" else "campaign_id"
    fields = st.subfields(st.object_type(type_name), details)
    needed: dict[str, None] = {}
    pairs: list[tuple[str, Sql]] = []
    for key, field_details in fields.items():
        name = field_details[0].node.name.value
        if name == "__typename":
            pairs.append((key, Sql(quote(type_name))))
            continue
        if name not in _NEEDS:
            raise NotCompilable(f"{type_name}.{name}")
        needed.update(dict.fromkeys(_NEEDS[name]))
        pairs.append((key, _stat(st, name, field_details)))
    value = st.dialect.obj(pairs)
    if not needed:
        return value
    columns = ", ".join(f"{AGGREGATES[n].format(a=alias, owner=owner)} AS {n}" for n in needed)
    once = f"(SELECT {columns}{st.dialect.fence}) {ROW}"
    return Sql(f"(SELECT {st.dialect.embed(value)} FROM {once})", json=True)


def _stat(st: Statement, name: str, details: list[FieldDetails]) -> Sql:
    if name == "campaignCount":
        return Sql(f"{ROW}.campaigns")
    if name == "videoCount":
        return Sql(f"{ROW}.videos")
    if name == "averageCost":
        return money_object(st, _average(st), "'USD'", details, nullable=False)
    amount = f"{ROW}.spend" if name == "totalSpend" else f"{ROW}.simulated"
    return money_object(st, amount, "'USD'", details, nullable=False)


def _average(st: Statement) -> str:
    """The completed jobs' spend (as money) over their number, as ``app.services.stats``."""
    if st.dialect.name != "postgresql":
        return f"adstudio_average({ROW}.completed, {ROW}.videos)"
    money = st.dialect.money(f"{ROW}.completed").text
    return f"(CASE WHEN {ROW}.videos = 0 THEN 0 ELSE ({money})::numeric / {ROW}.videos END)"
