"""Replay dead letters: decode their payloads again with the current sensors file.

After a device or station has been added to the sensors file (or its series resource created), the
readings that were parked as "device not in the sensors file" or "no series resource" can be stored.
Radio metadata was removed before parking, which the adapters never read; truncated payloads cannot be
replayed and stay.
"""
from __future__ import annotations

import collections

from ckanext.pegel.ingest import deadletter, pipeline, store


def replay(engine, decoder: pipeline.Decoder, resolver: pipeline.Resolver, limit: int = 10000,
           topic_prefix: str | None = None) -> collections.Counter:
    """Replay up to ``limit`` dead letters, oldest first. A dead letter that becomes a reading (new or
    already stored) is deleted; one that still fails stays with its current reason. Returns counts."""
    counts = collections.Counter()
    letters = deadletter.recent(engine, limit, topic_prefix, oldest_first=True)
    messages, ids = [], {}
    for letter in letters:
        if letter["truncated"]:
            counts["truncated"] += 1
            continue
        message = pipeline.Message(letter["topic"], letter["payload"].encode("utf-8"), letter["received_at"])
        decoder.decode(message)
        if message.reason:
            counts["still_invalid"] += 1
            continue
        resource_id, reason = resolver.resolve(message.device)
        if resource_id is None:
            counts["still_unresolved"] += 1
            continue
        messages.append(message)
        ids[id(message)] = letter["id"]
    if not messages:
        return counts
    groups = collections.defaultdict(list)
    for message in messages:
        groups[resolver.resolve(message.device)[0]].append(message)
    with store.transaction(engine) as connection:
        result = store.write_batches(connection, {rid: [m.row for m in group] for rid, group in groups.items()})
        done = [ids[id(m)] for rid, group in groups.items() if rid not in result.failed for m in group]
        deadletter.delete(connection, done)
    counts["stored"] += result.total_inserted
    counts["already_stored"] += len(done) - result.total_inserted
    counts["series_failed"] += len(messages) - len(done)
    return counts
