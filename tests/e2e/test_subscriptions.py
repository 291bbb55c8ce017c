"""Subscriptions through the schema, on both backends, wired as the app wires them: a writer's
commit wakes subscribers, who read what is new; `after` resumes without losing anything."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from typing import Any

import pytest
import strawberry
from graphql import ExecutionResult

from planapi.api.schema import build_schema
from planapi.api.types.context import Context
from planapi.application.access import Role, principal_for
from planapi.application.live import LiveUpdates
from planapi.application.plans import AmendPlan
from planapi.application.readings import RecordReadings
from planapi.bootstrap import Services, bootstrap
from planapi.config import Settings
from planapi.domain.changes import UpdateNode
from planapi.domain.events import Authority
from planapi.domain.readings import NewReading
from tests.readings_fixtures import PLAN_ID, create_plan_command, reading

PLAN_AMENDED = """
subscription Amended($planId: ID!, $after: Int) {
  planAmended(planId: $planId, after: $after) {
    planId version position
    amendment { version rationale changes { __typename ... on NodeUpdated { nodeId } } }
  }
}
"""
READINGS_RECORDED = """
subscription Recorded($kpiIds: [ID!]!, $after: Int, $planId: ID) {
  readingsRecorded(kpiIds: $kpiIds, after: $after, planId: $planId) {
    id batchId planId actor stored duplicates recordedAt
    readings { kpiId period value isCurrent }
  }
}
"""
WAIT = 10.0  # a wake-up normally takes milliseconds; PostgreSQL under load, longer

Subscribe = Callable[..., AsyncGenerator[Any, None]]


@pytest.fixture
async def services(settings: Settings) -> AsyncIterator[Services]:
    """The process's services as the app's lifespan starts them (notifier included)."""
    services = await bootstrap(settings)
    await services.notifier.start()
    await services.plans.create_plan(create_plan_command())
    try:
        yield services
    finally:
        await services.close()


@pytest.fixture
def schema() -> strawberry.Schema:
    return build_schema()


def context_of(services: Services, live: LiveUpdates | None = None) -> Context:
    return Context(
        plans=services.plans,
        readings=services.readings,
        feed=services.feed,
        live=live or services.live,
        principal=principal_for("subscriber", Role.READER, "token"),
    )


@pytest.fixture
async def subscribe(
    schema: strawberry.Schema, services: Services
) -> AsyncIterator[Callable[..., Any]]:
    """Open a subscription (closed after the test); returns its stream of results."""
    opened: list[AsyncGenerator[Any, None]] = []

    async def open_(
        query: str, live: LiveUpdates | None = None, **variables: Any
    ) -> AsyncGenerator[Any, None]:
        stream = await schema.subscribe(
            query, variable_values=variables, context_value=context_of(services, live)
        )
        assert not isinstance(stream, ExecutionResult), stream
        opened.append(stream)
        return stream

    yield open_
    for stream in opened:
        await stream.aclose()


async def receive(stream: AsyncGenerator[Any, None]) -> dict[str, Any]:
    result = await asyncio.wait_for(anext(stream), WAIT)
    assert not result.errors, result.errors
    data: dict[str, Any] = result.data
    return data


async def nothing_within(stream: AsyncGenerator[Any, None], seconds: float) -> bool:
    """True when the stream yields nothing for `seconds` (the stream is left usable)."""
    task = asyncio.ensure_future(anext(stream))
    done, _ = await asyncio.wait({task}, timeout=seconds)
    if done:
        return False
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError, StopAsyncIteration):
        await task
    return True


async def amend(services: Services, version: int, title: str) -> None:
    await services.plans.amend_plan(
        AmendPlan(
            plan_id=PLAN_ID,
            expected_version=version,
            authority=Authority.TDAG,
            rationale=f"Retitled {title}",
            changes=(UpdateNode("p1", {"title": title}),),
        )
    )


async def record(services: Services, *batch: NewReading) -> int:
    outcome = await services.readings.record(RecordReadings(PLAN_ID, batch))
    return outcome.batch_id


async def next_soon(stream: AsyncGenerator[Any, None]) -> asyncio.Future[Any]:
    """Ask for the next result in the background, and give the subscription time to start
    listening: a subscription without `after` only sees what commits once it listens."""
    pending = asyncio.ensure_future(anext(stream))
    await asyncio.sleep(0.3)
    return pending


async def test_a_subscriber_receives_an_amendment_committed_after_it_subscribed(
    subscribe: Subscribe, services: Services
) -> None:
    stream = await subscribe(PLAN_AMENDED, planId=PLAN_ID)
    pending = await next_soon(stream)

    await amend(services, 1, "Connectivity for all")

    result = await asyncio.wait_for(pending, WAIT)
    assert not result.errors, result.errors
    received = result.data["planAmended"]
    assert received["planId"] == PLAN_ID
    assert received["version"] == 2
    assert received["amendment"] == {
        "version": 2,
        "rationale": "Retitled Connectivity for all",
        "changes": [{"__typename": "NodeUpdated", "nodeId": "p1"}],
    }
    stored = await services.live.events.read(f"plan:{PLAN_ID}")
    assert received["position"] == stored[-1].position


async def test_a_subscriber_that_comes_back_with_after_gets_what_it_missed_then_live(
    subscribe: Subscribe, services: Services
) -> None:
    first = await subscribe(PLAN_AMENDED, planId=PLAN_ID, after=0)
    created = (await receive(first))["planAmended"]
    assert created["version"] == 1
    pending = await next_soon(first)
    await amend(services, 1, "Two")
    second = (await asyncio.wait_for(pending, WAIT)).data["planAmended"]
    await first.aclose()  # the client goes away, having seen version 2

    await amend(services, 2, "Three")
    await amend(services, 3, "Four")
    again = await subscribe(PLAN_AMENDED, planId=PLAN_ID, after=second["position"])

    missed = [(await receive(again))["planAmended"]["version"] for _ in range(2)]
    assert missed == [3, 4]
    pending = await next_soon(again)
    assert not pending.done()
    await amend(services, 4, "Five")
    live = (await asyncio.wait_for(pending, WAIT)).data["planAmended"]
    assert live["version"] == 5
    assert live["amendment"]["rationale"] == "Retitled Five"


async def test_amendments_of_other_plans_are_not_delivered(
    subscribe: Subscribe, services: Services
) -> None:
    await services.plans.create_plan(create_plan_command("other-2026"))
    stream = await subscribe(PLAN_AMENDED, planId="other-2026", after=0)
    assert (await receive(stream))["planAmended"]["planId"] == "other-2026"

    await amend(services, 1, "Not the other plan")

    assert await nothing_within(stream, 0.5)


async def test_readings_recorded_delivers_only_the_readings_of_the_kpis_asked_for(
    subscribe: Subscribe, services: Services
) -> None:
    stream = await subscribe(READINGS_RECORDED, kpiIds=["kpi-2", "kpi-4"])
    pending = await next_soon(stream)

    await record(services, reading("2026", "61"))  # kpi-1 only: not delivered
    batch = await record(
        services,
        reading("2026", "62"),
        reading("2026-Q1", "4.5", kpi_id="kpi-2"),
        reading("2026", "120", kpi_id="kpi-4"),
    )

    received = (await asyncio.wait_for(pending, WAIT)).data["readingsRecorded"]
    assert received["batchId"] == batch
    # Its id names the KPIs whose readings it holds: another subscriber's copy of the same
    # batch, with other readings, is another object to a normalising cache.
    assert received["id"] == f"ReadingsBatch:{batch}:kpi-2:kpi-4"
    assert received["planId"] == PLAN_ID
    assert received["stored"] == 3
    assert received["duplicates"] == 0
    assert received["actor"] == "e2e-tester"
    assert received["readings"] == [
        {"kpiId": "kpi-2", "period": "2026-Q1", "value": "4.5", "isCurrent": True},
        {"kpiId": "kpi-4", "period": "2026", "value": "120", "isCurrent": True},
    ]


async def test_readings_recorded_after_a_batch_replays_the_later_ones_then_goes_live(
    subscribe: Subscribe, services: Services
) -> None:
    first = await record(services, reading("2026", "61"))
    second = await record(services, reading("2027", "63"))
    await record(services, reading("2026-Q1", "4.5", kpi_id="kpi-2"))

    stream = await subscribe(READINGS_RECORDED, kpiIds=["kpi-1"], after=first)

    assert (await receive(stream))["readingsRecorded"]["batchId"] == second
    pending = await next_soon(stream)
    assert not pending.done(), "the kpi-2 batch is not for this subscriber"
    live = await record(services, reading("2028", "66"))
    received = (await asyncio.wait_for(pending, WAIT)).data["readingsRecorded"]
    assert received["batchId"] == live
    assert [r["period"] for r in received["readings"]] == ["2028"]


async def test_readings_recorded_can_be_narrowed_to_one_plan(
    subscribe: Subscribe, services: Services
) -> None:
    await services.plans.create_plan(create_plan_command("other-2026"))
    await services.readings.record(RecordReadings("other-2026", [reading("2026", "1")]))
    mine = await record(services, reading("2026", "61"))

    stream = await subscribe(READINGS_RECORDED, kpiIds=["kpi-1"], after=0, planId=PLAN_ID)

    assert (await receive(stream))["readingsRecorded"]["batchId"] == mine


@pytest.mark.parametrize(
    ("query", "variables", "code", "message"),
    [
        (PLAN_AMENDED, {"planId": "nowhere"}, "PLAN_NOT_FOUND", "plan 'nowhere' does not exist"),
        (PLAN_AMENDED, {"planId": PLAN_ID, "after": -1}, "BAD_USER_INPUT", "after: give 0 or more"),
        (READINGS_RECORDED, {"kpiIds": []}, "BAD_USER_INPUT", "kpiIds: give 1 to 100 KPI ids"),
    ],
)
async def test_bad_subscriptions_are_refused_with_a_reason(
    subscribe: Subscribe, query: str, variables: dict[str, Any], code: str, message: str
) -> None:
    stream = await subscribe(query, **variables)

    result = await asyncio.wait_for(anext(stream), WAIT)

    assert result.errors
    assert result.errors[0].message == message
    assert result.errors[0].extensions["code"] == code


async def test_closing_the_services_ends_open_subscriptions(
    subscribe: Subscribe, services: Services
) -> None:
    amended = await subscribe(PLAN_AMENDED, planId=PLAN_ID)
    recorded = await subscribe(READINGS_RECORDED, kpiIds=["kpi-1"])
    waiting = [await next_soon(amended), await next_soon(recorded)]

    await services.notifier.close()

    for pending in waiting:
        with pytest.raises(StopAsyncIteration):
            await asyncio.wait_for(pending, WAIT)


class SilentNotifier:
    """Never wakes anyone: what a subscriber sees when every notification is lost."""

    def publish(self, topic: str, position: int) -> None:
        return None

    @contextlib.asynccontextmanager
    async def listen(self, topic: str) -> AsyncIterator[SilentNotifier]:
        yield self

    async def wait(self, seconds: float) -> bool:
        await asyncio.sleep(seconds)
        return False

    async def start(self) -> None:
        return None

    async def close(self) -> None:
        return None


async def test_without_any_notification_the_poll_still_delivers(
    subscribe: Subscribe, services: Services
) -> None:
    live = services.live
    polling = LiveUpdates(live.events, live.log, live.readings, SilentNotifier(), poll_seconds=0.1)
    stream = await subscribe(PLAN_AMENDED, live=polling, planId=PLAN_ID)
    pending = await next_soon(stream)

    await amend(services, 1, "Found by polling")

    result = await asyncio.wait_for(pending, WAIT)
    assert result.data["planAmended"]["version"] == 2
