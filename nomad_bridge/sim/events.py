"""The event broker: every raft entry's changes become one buffered `{"Index", "Events"}` item.

Mirrors nomad/stream and nomad/state/events.go (v1.9):

- Events come from the rows an entry wrote (`eventFromChange`): a Job event carries the whole
  job, an Allocation event the allocation without its job, Evaluation and Deployment events
  the object; job summaries publish nothing. `Type` is the raft message type
  (`MsgTypeEvents`), so one entry's events share it. Entries that wrote no event are not
  buffered.
- The buffer (`eventBuffer`) starts with an empty sentinel item as its head and keeps
  `event_buffer_size` items after the head: once it has wrapped it holds size + 1 entries.
- `Subscribe`: index 0 starts at the head; index N at the first item whose index is N or
  more (`StartAtClosest`), the newest item when N is beyond it, and the head when N is
  older than the buffer: silently, the reader cannot tell.
- A reader whose last delivered item has been dropped from the buffer (it read too slowly)
  ends with `event dropped from buffer` (`bufferItem.Next`); a subscription the broker closes
  (token deleted or no longer allowed, state restored) ends with
  `subscription closed by server, client should resubscribe` (`ErrSubscriptionClosed`).
- `matching` is `subscription.go filter`, quirks included: with several keys for one topic
  an event is repeated once per matching key, and `*` among several keys matches only an
  event keyed `*`.
"""

from __future__ import annotations

import asyncio
import json
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from nomad_bridge.sim.models import Allocation, Deployment, Evaluation
from nomad_bridge.sim.state import ALLOCS, DEPLOYMENT, EVALS, JOBS, Change, Txn

DEFAULT_BUFFER_SIZE = 100
"""EventBrokerCfg: an `event_buffer_size` of 0 means Nomad's default, 100."""
SUBSCRIPTION_CLOSED = "subscription closed by server, client should resubscribe"
EVENT_DROPPED = "event dropped from buffer"
SHUTDOWN = ""
"""The agent going away: what reaches the client then is a race in Nomad; here, a clean end."""
ALL = "*"


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
    """One buffer item: a raft entry's events (none for the sentinel)."""

    seq: int
    index: int
    events: tuple[Event, ...]


def encode_line(index: int, events: Iterable[Event]) -> bytes:
    """One NDJSON line: the entry's index and the events this subscriber wants."""
    body = ",".join(e.text for e in events)
    return f'{{"Index":{index},"Events":[{body}]}}\n'.encode()


def event_from_change(change: Change) -> dict[str, Any] | None:
    """eventFromChange: which topic, key and filter keys a written row is published under.

    A deleted job still publishes (purge, GC: PR #19903); other deletions publish nothing.
    """
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


@dataclass(frozen=True)
class SubscribeRequest:
    """What a reader asked for (topics and keys, namespace, token) and the namespaces it
    was allowed when it subscribed (all of them for `*`: later ones are not added)."""

    topics: Mapping[str, tuple[str, ...]]
    namespace: str
    namespaces: frozenset[str]
    token: str = ""

    def matching(self, events: Iterable[Event]) -> list[Event]:
        """subscription.go filter: namespace, then topic keys (`*` alone matches all)."""
        all_keys = self.topics.get(ALL, ())
        every_topic = all_keys == (ALL,)
        wanted: list[Event] = []
        for event in events:
            if event.namespace and event.namespace not in self.namespaces:
                continue
            if every_topic:
                wanted.append(event)
                continue
            keys = (*all_keys, *self.topics.get(event.topic, ()))
            if keys == (ALL,):
                wanted.append(event)
                continue
            for key in keys:
                if key == event.key or key in event.filter_keys:
                    wanted.append(event)
        return wanted


class StreamEnded(Exception):
    """The broker ended the subscription; `reason` is the text Nomad sends after the last
    line ("" for none); `abort` means the connection is cut instead (a fault control)."""

    def __init__(self, reason: str, *, abort: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.abort = abort


@dataclass(eq=False)
class Subscription:
    """One reader's position: the item it starts at, then the last item it passed."""

    broker: EventBroker
    request: SubscribeRequest
    start: Entry | None
    current_seq: int
    ended: str | None = None
    abort: bool = False

    async def next(self, timeout_s: float) -> Entry | None:
        """The next entry with events (unfiltered); None after `timeout_s` or a wake-up
        with nothing new."""
        return await self.broker.next_for(self, timeout_s)


@dataclass
class EventBroker:
    size: int = DEFAULT_BUFFER_SIZE
    _buffer: deque[Entry] = field(init=False)
    _seq: int = 0
    _waiters: set[asyncio.Future[None]] = field(default_factory=set)
    _subscriptions: set[Subscription] = field(default_factory=set)
    closed: bool = False

    def __post_init__(self) -> None:
        self._buffer = deque(maxlen=self._capacity(self.size))
        self._append((), 0)

    @staticmethod
    def _capacity(size: int) -> int:
        if size < 0:
            raise ValueError("event_buffer_size must be non-negative")
        return (size or DEFAULT_BUFFER_SIZE) + 1  # the head plus `size` items after it

    @property
    def oldest_index(self) -> int:
        """The index of the oldest buffered entry (0 while only the sentinel is there)."""
        return self._buffer[0].index

    def resize(self, size: int) -> None:
        """Keep `size` items after the head from now on (the newest ones are kept)."""
        self._buffer = deque(self._buffer, maxlen=self._capacity(size))
        self.size = size
        self._wake()

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
        if events:
            self._append(tuple(events), tx.index)
            self._wake()

    def _append(self, events: tuple[Event, ...], index: int) -> None:
        self._seq += 1
        self._buffer.append(Entry(self._seq, index, events))

    def subscribe(self, index: int, request: SubscribeRequest) -> Subscription:
        """Start at the head (index 0), else at the closest item at or after `index`."""
        start = self._buffer[0]
        if index != 0:
            later = [e for e in self._buffer if e.index >= index]
            start = later[0] if later else self._buffer[-1]
        sub = Subscription(self, request, start, start.seq - 1)
        if self.closed:
            sub.ended = SHUTDOWN
        else:
            self._subscriptions.add(sub)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        self._subscriptions.discard(sub)

    async def next_for(self, sub: Subscription, timeout_s: float) -> Entry | None:
        waited = False
        while True:
            if sub.ended is not None:
                raise StreamEnded(sub.ended, abort=sub.abort)
            if sub.start is not None:
                entry, sub.start = sub.start, None
                sub.current_seq = entry.seq
                if entry.events:
                    return entry
                continue
            if self._buffer[-1].seq > sub.current_seq:
                if sub.current_seq < self._buffer[0].seq:
                    self._end(sub, EVENT_DROPPED)
                    continue
                entry = self._buffer[sub.current_seq - self._buffer[0].seq + 1]
                sub.current_seq = entry.seq
                return entry
            if waited:  # timed out, or woken with nothing new: let the caller look again
                return None
            await self._wait(timeout_s)
            waited = True

    async def _wait(self, timeout_s: float) -> None:
        """Until a publish, a wake-up or `timeout_s`, whichever comes first."""
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.add(fut)
        try:
            await asyncio.wait({fut}, timeout=max(timeout_s, 0))
        finally:
            self._waiters.discard(fut)
            fut.cancel()

    def close_where(self, unwanted: Callable[[Subscription], bool]) -> int:
        """Close the subscriptions `unwanted` picks, as the broker does on ACL changes."""
        chosen = [sub for sub in self._subscriptions if sub.ended is None and unwanted(sub)]
        for sub in chosen:
            self._end(sub, SUBSCRIPTION_CLOSED)
        self._wake()
        return len(chosen)

    def drop_all(self) -> int:
        """Cut every open stream's connection, as a proxy or network failure would."""
        dropped = list(self._subscriptions)
        for sub in dropped:
            sub.abort = True
            self._end(sub, SHUTDOWN)
        self._wake()
        return len(dropped)

    def reset(self) -> None:
        """A snapshot restore: the old broker closes every subscription, a new one starts
        empty (fsm.go restoreImpl: new state store, old one Abandon()ed)."""
        self.close_where(lambda _: True)
        self._buffer.clear()
        self._append((), 0)

    def close(self) -> None:
        """Shutdown: every stream ends, its response completed without an error text."""
        self.closed = True
        for sub in list(self._subscriptions):
            self._end(sub, SHUTDOWN)
        self._wake()

    def wake(self) -> None:
        """Let every waiting reader look again (a fault control changed)."""
        self._wake()

    def _end(self, sub: Subscription, reason: str) -> None:
        sub.ended = reason
        self._subscriptions.discard(sub)

    def _wake(self) -> None:
        waiters, self._waiters = self._waiters, set()
        for fut in waiters:
            if not fut.done():
                fut.set_result(None)

    @property
    def subscriptions(self) -> frozenset[Subscription]:
        return frozenset(self._subscriptions)
