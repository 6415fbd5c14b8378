"""The event broker: every raft entry's changes become one buffered `{"Index", "Events"}` line.

Mirrors nomad/stream: events are derived from the rows an entry wrote (`eventsFromChanges`),
their `Type` is the raft message type, the buffer keeps the last `event_buffer_size`
entries, and a subscriber starting at `index=N` begins at the first entry whose index is
N or more (the newest entry if N is beyond it). A subscriber that falls out of the buffer,
or any subscriber when the state is restored, is closed, as Nomad closes it.
"""

from __future__ import annotations

import asyncio
import json
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from nomad_bridge.sim.models import Allocation, Deployment, Evaluation
from nomad_bridge.sim.state import ALLOCS, DEPLOYMENT, EVALS, JOBS, Change, Txn

TOPICS = (
    "Job",
    "Allocation",
    "Evaluation",
    "Deployment",
    "Node",
    "NodeDrain",
    "NodePool",
    "Service",
    "ACLToken",
    "ACLPolicy",
    "ACLRole",
    "ACLAuthMethod",
    "ACLBindingRule",
    "*",
)


@dataclass(frozen=True)
class Event:
    """One published event: what subscribers filter on, and its JSON, encoded at commit."""

    topic: str
    key: str
    namespace: str
    filter_keys: tuple[str, ...]
    text: str


@dataclass(frozen=True)
class Entry:
    seq: int
    index: int
    events: tuple[Event, ...]


def encode_line(index: int, events: list[Event]) -> bytes:
    """One NDJSON line: the entry's index and the events this subscriber wants."""
    body = ",".join(e.text for e in events)
    return f'{{"Index":{index},"Events":[{body}]}}\n'.encode()


def event_from_change(change: Change) -> dict[str, Any] | None:
    """eventFromChange: which topic, key and filter keys a written row is published under."""
    obj = change.obj
    if change.table == JOBS:
        return _event("Job", obj["ID"], obj["Namespace"], None, {"Job": obj})
    if change.deleted:
        return None
    if change.table == EVALS and isinstance(obj, Evaluation):
        keys = [obj.job_id, obj.deployment_id]
        return _event("Evaluation", obj.id, obj.namespace, keys, {"Evaluation": obj.to_json()})
    if change.table == ALLOCS and isinstance(obj, Allocation):
        keys = [obj.job_id, obj.deployment_id]
        payload = {"Allocation": obj.to_json(with_job=False)}
        return _event("Allocation", obj.id, obj.namespace, keys, payload)
    if change.table == DEPLOYMENT and isinstance(obj, Deployment):
        return _event(
            "Deployment", obj.id, obj.namespace, [obj.job_id], {"Deployment": obj.to_json()}
        )
    return None


def _event(
    topic: str, key: str, namespace: str, filter_keys: list[str] | None, payload: dict[str, Any]
) -> dict[str, Any]:
    return {
        "Topic": topic,
        "Type": "",
        "Key": key,
        "Namespace": namespace,
        "FilterKeys": filter_keys,
        "Index": 0,
        "Payload": payload,
    }


@dataclass(eq=False)
class Subscription:
    """One reader's position in the buffer and what it asked for."""

    broker: EventBroker
    next_seq: int
    topics: dict[str, list[str]]
    namespace: str
    closed: bool = False

    def wants(self, event: Event) -> bool:
        if self.namespace != "*" and event.namespace and event.namespace != self.namespace:
            return False
        for topic in (event.topic, "*"):
            for key in self.topics.get(topic, ()):
                if key in ("*", event.key) or key in event.filter_keys:
                    return True
        return False

    async def next(self, timeout_s: float) -> Entry | None:
        """The next entry (unfiltered), None after `timeout_s` idle; raises when closed."""
        return await self.broker.next_for(self, timeout_s)


class SubscriptionClosed(Exception):
    """The broker dropped the subscriber (shutdown, state restore, or it fell behind)."""


@dataclass
class EventBroker:
    size: int
    _buffer: deque[Entry] = field(init=False)
    _seq: int = 0
    _waiters: set[asyncio.Future[None]] = field(default_factory=set)
    _subscriptions: set[Subscription] = field(default_factory=set)
    closed: bool = False

    def __post_init__(self) -> None:
        self._buffer = deque(maxlen=max(1, self.size))

    def publish(self, tx: Txn) -> None:
        """Commit listener: turn the entry's changes into events (none for `_` types)."""
        if tx.msg_type.startswith("_"):
            return
        events = []
        for change in tx.changes:
            event = event_from_change(change)
            if event is not None:
                event["Type"] = tx.msg_type
                event["Index"] = tx.index
                text = json.dumps(event, ensure_ascii=False, separators=(",", ":"))
                keys = tuple(event["FilterKeys"] or ())
                events.append(Event(event["Topic"], event["Key"], event["Namespace"], keys, text))
        if not events:
            return
        self._seq += 1
        self._buffer.append(Entry(self._seq, tx.index, tuple(events)))
        self._wake()

    def subscribe(self, index: int, topics: dict[str, list[str]], namespace: str) -> Subscription:
        start = self._seq + 1
        if self._buffer:
            if index == 0:
                start = self._buffer[0].seq
            else:
                later = [e for e in self._buffer if e.index >= index]
                start = later[0].seq if later else self._buffer[-1].seq
        sub = Subscription(self, start, topics, namespace)
        self._subscriptions.add(sub)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        self._subscriptions.discard(sub)

    async def next_for(self, sub: Subscription, timeout_s: float) -> Entry | None:
        while True:
            if sub.closed or self.closed:
                raise SubscriptionClosed
            if self._buffer and sub.next_seq < self._buffer[0].seq:
                sub.closed = True
                raise SubscriptionClosed
            if self._buffer and sub.next_seq <= self._buffer[-1].seq:
                entry = self._buffer[sub.next_seq - self._buffer[0].seq]
                sub.next_seq += 1
                return entry
            fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._waiters.add(fut)
            try:
                done, _ = await asyncio.wait({fut}, timeout=timeout_s)
            finally:
                self._waiters.discard(fut)
                fut.cancel()
            if not done:
                return None

    def reset(self) -> None:
        """A snapshot restore: the buffer is emptied and every subscriber is closed."""
        self._buffer.clear()
        for sub in self._subscriptions:
            sub.closed = True
        self._subscriptions.clear()
        self._wake()

    def close(self) -> None:
        self.closed = True
        self.reset()

    def _wake(self) -> None:
        waiters, self._waiters = self._waiters, set()
        for fut in waiters:
            if not fut.done():
                fut.set_result(None)
