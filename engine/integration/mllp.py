"""The MLLP listener: one transaction per HL7 message, the ACK written only after it has
committed (DESIGN invariant 7). Framing is the `hl7` package's asyncio MLLP streams.

Messages are applied one at a time, in arrival order: ADT order matters (an A03 must not
overtake its A01), and a hospital feed is a single ordered stream anyway."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable
from typing import Any

import hl7
import hl7.mllp
from sqlalchemy.exc import IntegrityError

from engine.calendar import DEFAULT_SITE, Site
from engine.clock import Clock
from engine.errors import CareBridgeError
from engine.integration import hl7_adt

log = logging.getLogger(__name__)

# HL7 table 0357 (message error condition codes) for ERR-3.
_ERR_CODES = {
    "hl7_unknown_mrn": ("204", "Unknown key identifier"),
    "hl7_unsupported": ("200", "Unsupported message type"),
    "hl7_unparseable": ("100", "Segment sequence error"),
}
# Rejected (AR): the message itself is unusable. Everything else is an application error (AE).
_REJECT = {"hl7_unparseable", "hl7_unsupported"}


def handle(sessions: Any, raw: str, *, clock: Clock, site: Site = DEFAULT_SITE) -> str:
    """Apply one message and return its ACK (already committed when this returns)."""
    try:
        message = hl7_adt.parse(raw)
    except CareBridgeError as exc:
        return _bare_reject(exc.public_message)
    control = hl7_adt.control_id(message)
    with sessions.begin() as session:
        prior = hl7_adt.find_processed(session, control)
        if prior is not None:
            return build_ack(message, prior.ack_code, prior.ack_text)
    try:
        with sessions.begin() as session:
            applied = hl7_adt.apply_message(session, message=message, clock=clock, site=site)
        return build_ack(message, "AA", applied.text)
    except IntegrityError:
        # The same control id committed by a concurrent connection: answer as it was answered.
        with sessions.begin() as session:
            prior = hl7_adt.find_processed(session, control)
        if prior is None:
            raise
        return build_ack(message, prior.ack_code, prior.ack_text)
    except CareBridgeError as exc:
        code = "AR" if exc.code in _REJECT else "AE"
        _record_failure(sessions, message, exc, code, clock)
        return build_ack(message, code, exc.public_message, error_code=exc.code)
    except Exception:
        log.exception("HL7 message %s failed", control)
        internal = CareBridgeError(
            "Internal error; the message was not applied.", code="hl7_internal"
        )
        _record_failure(sessions, message, internal, "AE", clock)
        return build_ack(message, "AE", internal.public_message, error_code=internal.code)


def _record_failure(
    sessions: Any, message: hl7.Message, exc: CareBridgeError, code: str, clock: Clock
) -> None:
    with sessions.begin() as session:
        hl7_adt.record_failure(session, message=message, error=exc, ack_code=code, clock=clock)


def build_ack(message: hl7.Message, code: str, text: str = "", *, error_code: str = "") -> str:
    ack = message.create_ack(ack_code=code, message_id=f"ACK{uuid.uuid4().hex[:16]}")
    segments = [str(ack.segment("MSH"))]
    msa = f"MSA|{code}|{message.escape(hl7_adt.control_id(message))}"
    if text:
        msa += f"|{message.escape(text)}"
    segments.append(msa)
    if code != "AA":
        number, label = _ERR_CODES.get(error_code, ("207", "Application internal error"))
        segments.append(f"ERR|||{number}^{label}^HL70357|E||||{message.escape(text)}")
    return "\r".join(segments) + "\r"


def _bare_reject(text: str) -> str:
    # No MSH to answer to: a minimal ACK so the sender's engine logs the reason.
    return (
        f"MSH|^~\\&|CAREBRIDGE||||||ACK|ACK{uuid.uuid4().hex[:16]}|P|2.5\r"
        f"MSA|AR||{text}\rERR|||100^Segment sequence error^HL70357|E||||{text}\r"
    )


async def _connection(
    reader: hl7.mllp.HL7StreamReader,
    writer: hl7.mllp.HL7StreamWriter,
    *,
    sessions: Any,
    clock: Clock,
    site: Site,
    lock: asyncio.Lock,
) -> None:
    try:
        while not writer.is_closing():
            block = await reader.readblock()
            raw = block.decode("utf-8", errors="replace")
            async with lock:
                ack = await asyncio.to_thread(handle, sessions, raw, clock=clock, site=site)
            writer.writeblock(ack.encode("utf-8", errors="replace"))
            await writer.drain()
    except asyncio.IncompleteReadError:
        pass  # the sender closed the connection
    except hl7.mllp.InvalidBlockError:
        log.warning("HL7 connection sent a block without MLLP framing; closing it")
    finally:
        writer.close()


async def serve(
    sessions: Any,
    *,
    host: str,
    port: int,
    clock: Clock,
    site: Site = DEFAULT_SITE,
    started: Callable[[int], None] | None = None,
) -> None:
    """Listen until cancelled. `started` gets the bound port (0 asks for a free one)."""
    lock = asyncio.Lock()

    async def on_connect(reader: Any, writer: Any) -> None:
        await _connection(reader, writer, sessions=sessions, clock=clock, site=site, lock=lock)

    server = await hl7.mllp.start_hl7_server(
        on_connect, host=host, port=port, encoding="utf-8", encoding_errors="replace"
    )
    async with server:
        if started is not None:
            started(server.sockets[0].getsockname()[1])
        await server.serve_forever()
