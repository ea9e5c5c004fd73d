#!/usr/bin/env python3
"""A pile played by aiocoap, an independent CoAP implementation, for the bridge's interop tests
(device-bridge/tests/interop.rs runs it).

    aiocoap_client.py report URL json|cbor SEQ BAY PILE
        POSTs one report (confirmable) and prints "<code> <diagnostic>" on one line.
    aiocoap_client.py observe URL COUNT TIMEOUT
        GETs URL with Observe=0, prints "<code> <observe> <payload>" for the response and then for
        each notification until COUNT lines were printed (aiocoap acknowledges confirmable
        notifications itself), then cancels the observation. Exits 3 on timeout.

Every line is flushed at once so the caller can act on it.
"""

import asyncio
import json
import sys

import aiocoap
from aiocoap.numbers.codes import Code

JSON = 50
CBOR = 60


def cbor_text(s: str) -> bytes:
    b = s.encode()
    assert len(b) < 24
    return bytes([0x60 + len(b)]) + b


def cbor_uint(n: int) -> bytes:
    if n < 24:
        return bytes([n])
    if n < 0x100:
        return bytes([0x18, n])
    if n < 0x10000:
        return bytes([0x19]) + n.to_bytes(2, "big")
    if n < 0x100000000:
        return bytes([0x1A]) + n.to_bytes(4, "big")
    return bytes([0x1B]) + n.to_bytes(8, "big")


def cbor_report(seq: int, bay: str, pile: str) -> bytes:
    """{"seq": seq, "bay": bay, "pile": pile} in CBOR (RFC 8949), by hand: no cbor2 needed."""
    return (
        bytes([0xA3])
        + cbor_text("seq")
        + cbor_uint(seq)
        + cbor_text("bay")
        + cbor_text(bay)
        + cbor_text("pile")
        + cbor_text(pile)
    )


def show(code) -> str:
    return code.dotted


async def report(url: str, fmt: str, seq: int, bay: str, pile: str) -> int:
    ctx = await aiocoap.Context.create_client_context()
    try:
        if fmt == "cbor":
            payload, cf = cbor_report(seq, bay, pile), CBOR
        else:
            payload = json.dumps({"seq": seq, "bay": bay, "pile": pile}).encode()
            cf = JSON
        msg = aiocoap.Message(
            code=Code.POST, uri=url, payload=payload, content_format=cf
        )
        resp = await ctx.request(msg).response
        print(show(resp.code), resp.payload.decode(errors="replace"), flush=True)
        return 0
    finally:
        await ctx.shutdown()


async def observe(url: str, count: int, timeout: float) -> int:
    ctx = await aiocoap.Context.create_client_context()
    try:
        req = ctx.request(aiocoap.Message(code=Code.GET, uri=url, observe=0))

        async def run() -> None:
            first = await req.response
            print(show(first.code), first.opt.observe, first.payload.decode(), flush=True)
            seen = 1
            if seen >= count:
                return
            async for n in req.observation:
                print(show(n.code), n.opt.observe, n.payload.decode(), flush=True)
                seen += 1
                if seen >= count:
                    return

        try:
            await asyncio.wait_for(run(), timeout)
        except asyncio.TimeoutError:
            print("timeout", flush=True)
            return 3
        finally:
            if not req.observation.cancelled:
                req.observation.cancel()
        return 0
    finally:
        await ctx.shutdown()


def main(argv: list) -> int:
    if len(argv) >= 7 and argv[1] == "report":
        return asyncio.run(report(argv[2], argv[3], int(argv[4]), argv[5], argv[6]))
    if len(argv) >= 5 and argv[1] == "observe":
        return asyncio.run(observe(argv[2], int(argv[3]), float(argv[4])))
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
