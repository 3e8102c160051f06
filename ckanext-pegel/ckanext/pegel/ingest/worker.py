"""The long-running MQTT ingest (``ckan pegel ingest``).

No reading is lost on the way from the broker to the DataStore:

* QoS 1 subscriptions in a persistent MQTT v5 session (``clean_start`` off, session expiry from the
  config): while the worker is away, the broker keeps its messages.
* Manual acknowledgements: a message is acknowledged (PUBACK) only after the transaction holding its
  reading or dead letter has been committed. A crash before that makes the broker deliver it again;
  the series' primary key (``time``) turns the repetition into a no-op.
* Bounded buffer: the worker announces ``Receive Maximum = ingest_max_pending``, so the broker never
  has more unacknowledged messages in flight to it; the rest waits in the broker's queue for the
  session (mind Mosquitto's ``max_queued_messages``, 1000 by default: raise it for long outages).
* Database down: the batch stays in the buffer and is retried with exponential backoff up to
  ``ingest_backoff_max_seconds``; nothing is acknowledged meanwhile. Broker down: paho reconnects
  with exponential backoff (1 s up to the same maximum) and the session resumes.

Threads: paho's network thread decodes messages into the buffer; the main thread (which has CKAN's
app context) writes batches and queues the acknowledgements.
"""
from __future__ import annotations

import collections
import datetime as dt
import logging
import ssl
import threading
import time

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode, MQTTProtocolVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.subscribeoptions import SubscribeOptions

from ckanext.pegel.ingest import deadletter, pipeline, store
from ckanext.pegel.ingest.settings import Settings

log = logging.getLogger(__name__)
STATS_INTERVAL = 60.0
PURGE_INTERVAL = 3600.0
WAIT_SLICE = 0.25  # how often a waiting loop looks at the stop flag


class _Client(mqtt.Client):
    """paho's client with a cheaper receive path (same packets, same callbacks, same acknowledgements).

    Receiving a QoS 1 message cost paho about 4 ``recv()`` calls (type byte, length bytes one at a time,
    body) and one pass of its network loop (``select()``, keepalive and write checks): paho reads ONE
    packet per pass when the client publishes nothing. Here the socket is read ``READ_AHEAD`` bytes at a
    time and a pass handles up to ``READ_BURST`` packets, then goes on writing acknowledgements and
    keepalives. Falls back to paho's own loop if a paho version lacks the methods used (the version is
    pinned in constraints.txt)."""

    READ_BURST = 100
    READ_AHEAD = 65536

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._ahead, self._ahead_pos, self._ahead_sock = b"", 0, None

    def loop_read(self, max_packets: int = 1) -> MQTTErrorCode:
        if not _FAST_RECEIVE:
            return super().loop_read(max_packets)
        handled = 0
        while True:
            if self._sock is None:
                return MQTTErrorCode.MQTT_ERR_NO_CONN
            rc = self._packet_read()
            if rc > 0:
                return self._loop_rc_handle(rc)
            if rc == MQTTErrorCode.MQTT_ERR_AGAIN:
                return MQTTErrorCode.MQTT_ERR_SUCCESS
            handled += 1
            # select() does not see bytes already read ahead: the burst only ends when they are used up.
            if handled >= self.READ_BURST and self._ahead_pos >= len(self._ahead):
                return MQTTErrorCode.MQTT_ERR_SUCCESS

    def _sock_recv(self, bufsize: int) -> bytes:
        if not _FAST_RECEIVE:
            return super()._sock_recv(bufsize)
        if self._ahead_sock is not self._sock:  # a new connection: what was left of the old one is void
            self._ahead, self._ahead_pos, self._ahead_sock = b"", 0, self._sock
        if self._ahead_pos >= len(self._ahead):
            data = super()._sock_recv(max(bufsize, self.READ_AHEAD))
            if len(data) <= bufsize:
                return data
            self._ahead, self._ahead_pos = data, 0
        start = self._ahead_pos
        self._ahead_pos = min(start + bufsize, len(self._ahead))
        return self._ahead[start:self._ahead_pos]


_FAST_RECEIVE = all(callable(getattr(mqtt.Client, name, None))
                    for name in ("_packet_read", "_loop_rc_handle", "_sock_recv"))


class IngestWorker:
    """Subscribe, buffer, write batches, acknowledge after commit."""

    def __init__(self, settings: Settings, decoder: pipeline.Decoder, resolver: pipeline.Resolver, engine):
        self.settings, self.decoder, self.resolver, self.engine = settings, decoder, resolver, engine
        self._pending: collections.deque[pipeline.Message] = collections.deque()
        self._lock = threading.Lock()  # guards _pending
        self._due = threading.Condition(self._lock)  # a batch may be due
        self._ack_lock = threading.Lock()  # guards _generation against acks of a gone connection
        self._generation = 0
        self._stop = threading.Event()
        self.totals = collections.Counter()
        self.client = self._make_client()

    # Control

    def stop(self) -> None:
        """Finish: write what is buffered (one attempt if the database is down), then disconnect.
        Safe to call from a signal handler."""
        self._stop.set()

    def run(self) -> None:
        """Block until ``stop()``: connect, then write batches as they fill up."""
        if not self._until_database(lambda: deadletter.ensure_table(self.engine), "prepare the dead-letter table"):
            return
        s = self.settings
        log.info("connecting to mqtt%s://%s:%d as %r, %d topics, %d devices", "s" if s.tls else "", s.host,
                 s.port, s.client_id, len(s.subscriptions), len(self.decoder.sensors.devices))
        properties = Properties(PacketTypes.CONNECT)
        properties.SessionExpiryInterval = s.session_expiry
        properties.ReceiveMaximum = s.max_pending
        self.client.connect_async(s.host, s.port, keepalive=60, clean_start=False, properties=properties)
        self.client.loop_start()
        try:
            self._write_loop()
        finally:
            self.client.disconnect()
            self.client.loop_stop()
            log.info("stopped: %s", self._totals_text())

    # MQTT callbacks (paho's network thread)

    def _make_client(self) -> mqtt.Client:
        s = self.settings
        client = _Client(CallbackAPIVersion.VERSION2, client_id=s.client_id, protocol=MQTTProtocolVersion.MQTTv5,
                         manual_ack=True)
        if s.username:
            client.username_pw_set(s.username, s.password)
        if s.tls:
            client.tls_set(ca_certs=s.ca_file, cert_reqs=ssl.CERT_REQUIRED)
        client.reconnect_delay_set(1, s.backoff_max_seconds)
        client.on_connect, client.on_disconnect = self._on_connect, self._on_disconnect
        client.on_message, client.on_subscribe = self._on_message, self._on_subscribe
        return client

    def _on_connect(self, client, userdata, flags, reason_code, properties) -> None:
        if reason_code.is_failure:
            log.error("broker refused the connection: %s (retrying)", reason_code)
            return
        with self._ack_lock:
            self._generation += 1
        if flags.session_present:
            # The broker resends every unacknowledged QoS 1 message of the session: drop our copies, so
            # reconnects do not pile up the buffer (QoS 0 ones are not resent: keep them). Entries already
            # being written are written anyway.
            with self._lock:
                kept = [m for m in self._pending if not m.qos]
                dropped = len(self._pending) - len(kept)
                self._pending = collections.deque(kept)
            log.info("connected, session resumed (%d buffered messages will be delivered again)", dropped)
        else:
            log.info("connected, new session")
        # retain_handling 1: retained messages only for a new subscription, not on every reconnect.
        options = SubscribeOptions(qos=1, retainHandling=SubscribeOptions.RETAIN_SEND_IF_NEW_SUB)
        client.subscribe([(sub.topic, options) for sub in self.settings.subscriptions])

    def _on_subscribe(self, client, userdata, mid, reason_codes, properties) -> None:
        refused = [sub.topic for sub, code in zip(self.settings.subscriptions, reason_codes) if code.is_failure]
        if refused:
            log.error("broker refused the subscriptions to %s", ", ".join(refused))
        log.info("subscribed to %d topics", len(reason_codes) - len(refused))

    def _on_disconnect(self, client, userdata, flags, reason_code, properties) -> None:
        with self._ack_lock:
            self._generation += 1
        if not self._stop.is_set():
            log.warning("disconnected from the broker (%s), reconnecting", reason_code)

    def _on_message(self, client, userdata, message: mqtt.MQTTMessage) -> None:
        if self._stop.is_set():
            return  # not acknowledged: the broker delivers it again after a restart
        try:
            topic = message.topic
        except UnicodeDecodeError:
            topic = message._topic.decode("utf-8", errors="replace")
        entry = pipeline.Message(topic, message.payload, dt.datetime.now(dt.timezone.utc), mid=message.mid,
                                 qos=message.qos, generation=self._generation)
        try:
            self.decoder.decode(entry)
        except Exception as error:  # a bug must not stop the network thread; keep the message
            log.exception("cannot decode a message on %r", topic)
            entry.reason = f"internal error while decoding: {type(error).__name__}"
        with self._lock:
            self._pending.append(entry)
            if len(self._pending) in (1, self.settings.batch_size):
                self._due.notify()

    # Writing (main thread)

    def _write_loop(self) -> None:
        failures, next_stats, next_purge = 0, time.monotonic() + STATS_INTERVAL, time.monotonic()
        while True:
            batch = self._next_batch()
            if batch is None:
                return
            wait = min(0.5 * 2 ** failures, self.settings.backoff_max_seconds)
            try:
                outcome = pipeline.write(self.engine, batch, self.resolver)
            except store.StoreUnavailable as error:
                if self._stop.is_set():
                    log.warning("stopping with %d readings not written (database unavailable: %s); the broker "
                                "delivers them again", len(batch) + len(self._pending), error)
                    return
                log.warning("database unavailable (%s): %d messages buffered, retrying in %.1f s", error,
                            len(batch) + len(self._pending), wait)
            except Exception:
                log.exception("writing a batch of %d messages failed, retrying in %.1f s", len(batch), wait)
                self._try(lambda: deadletter.ensure_table(self.engine))
            else:
                if failures:
                    log.info("writing again after %d failed attempts", failures)
                failures = 0
                self._acknowledge(batch)
                self.totals.update(inserted=outcome.inserted, duplicates=outcome.duplicates,
                                   dead_letters=outcome.dead_letters, messages=len(batch))
                if time.monotonic() >= next_stats:
                    log.info("%s", self._totals_text())
                    next_stats = time.monotonic() + STATS_INTERVAL
                if time.monotonic() >= next_purge:
                    self._purge_dead_letters()
                    next_purge = time.monotonic() + PURGE_INTERVAL
                continue
            failures += 1
            with self._lock:
                self._pending.extendleft(reversed(batch))
            self._stop.wait(wait)

    def _next_batch(self) -> list[pipeline.Message] | None:
        """Wait until a batch is due (full, old enough, or stopping); None when stopped and empty."""
        size, age = self.settings.batch_size, self.settings.batch_seconds
        with self._due:
            while True:
                stopping = self._stop.is_set()
                if self._pending and (stopping or len(self._pending) >= size
                                      or time.monotonic() - self._pending[0].arrived >= age):
                    return [self._pending.popleft() for _ in range(min(size, len(self._pending)))]
                if stopping:
                    return None
                wait = age - (time.monotonic() - self._pending[0].arrived) if self._pending else WAIT_SLICE
                self._due.wait(min(max(wait, 0.0), WAIT_SLICE))

    def _acknowledge(self, batch: list[pipeline.Message]) -> None:
        with self._ack_lock:
            generation = self._generation
            for message in batch:
                if message.qos and message.generation == generation:
                    self.client.ack(message.mid, message.qos)

    # Helpers

    def _purge_dead_letters(self) -> None:
        try:
            purged = deadletter.purge(self.engine, self.settings.dead_letter_days)
        except Exception as error:  # retention must never stop the ingest
            log.warning("could not delete old dead letters: %s", error)
            return
        if purged:
            log.info("deleted %d dead letters older than %d days", purged, self.settings.dead_letter_days)

    def _until_database(self, action, what: str) -> bool:
        backoff = 0.5
        while not self._stop.is_set():
            if self._try(action):
                return True
            log.warning("database unavailable: cannot %s, retrying in %.1f s", what, backoff)
            self._stop.wait(backoff)
            backoff = min(backoff * 2, self.settings.backoff_max_seconds)
        return False

    @staticmethod
    def _try(action) -> bool:
        try:
            action()
            return True
        except Exception as error:  # logged by the caller's loop; the worker keeps running
            log.debug("failed: %s", error)
            return False

    def _totals_text(self) -> str:
        t = self.totals
        with self._lock:
            pending = len(self._pending)
        return (f"{t['messages']} messages: {t['inserted']} readings stored, {t['duplicates']} duplicates, "
                f"{t['dead_letters']} dead letters; {pending} buffered")
