"""The AI agent's reply time: shoppers in multi-turn conversations with the embedded agent.

Starts `portside serve` on the demo store (SQLite, embedded models) as a subprocess on
a free port, opens --shoppers widget connections, each on a product page, and for
--seconds has every shopper ask a question, wait for the agent's answer, think for a
while (--think-min to --think-max seconds, like a person reading and typing), and ask
the next, in ten languages. Latency is from just before the send to the agent's answer
arriving. The last line printed is one JSON object with the results.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import random
import time
from collections import Counter
from typing import Any

from websockets.asyncio.client import ClientConnection, connect

from _server import bench_env, cpu_seconds, peak_rss_mb, percentile, portside, serving, wait_ready

PRODUCTS = [
    "washed-linen-shirt",
    "merino-crew-sweater",
    "silk-slip-dress",
    "stonewashed-linen-duvet-cover",
]
# Questions a shopper on a product page asks, none of them asking for a person (which
# would end the agent's part).
QUESTIONS = [
    "hi!",
    "can I machine wash this?",
    "what is it made of?",
    "which sizes do you have?",
    "is it in stock?",
    "how long does shipping to Canada take?",
    "what's your return policy?",
    "¿se puede lavar en lavadora?",
    "¿de qué material es?",
    "这个有货吗",
    "这个能机洗吗",
    "日本までの送料はいくらですか",
    "洗濯機で洗えますか",
    "Kann man das in der Maschine waschen?",
    "vous acceptez paypal ?",
    "quais tamanhos vocês têm?",
    "반품은 어떻게 하나요?",
    "هل يمكن غسله في الغسالة؟",
    "сколько идет доставка в Россию?",
    "thanks!",
]


class Shopper:
    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.answers: asyncio.Queue[float] = asyncio.Queue()

    async def read(self) -> None:
        with contextlib.suppress(Exception):
            async for raw in self.ws:
                frame = json.loads(raw)
                if frame["type"] == "ping":
                    await self.ws.send('{"v":1,"type":"pong"}')
                elif (
                    frame["type"] == "event"
                    and frame["event"]["type"] == "message.created"
                    and frame["event"]["actor"]["type"] == "bot"
                ):
                    self.answers.put_nowait(time.perf_counter())


async def converse(
    shopper: Shopper,
    args: argparse.Namespace,
    until: float,
    latencies: list[float],
    late: Counter[str],
) -> None:
    rng = random.Random(id(shopper))
    turn = 0
    while time.perf_counter() < until:
        question = rng.choice(QUESTIONS)
        sent = time.perf_counter()
        await shopper.ws.send(
            json.dumps({"v": 1, "type": "message.send", "client_id": f"q{turn}", "text": question})
        )
        turn += 1
        try:
            arrived = await asyncio.wait_for(shopper.answers.get(), 10)
        except TimeoutError:
            late["unanswered"] += 1
            continue
        latencies.append((arrived - sent) * 1000)
        await asyncio.sleep(rng.uniform(args.think_min, args.think_max))


async def run(args: argparse.Namespace) -> dict[str, Any]:
    origin, port, env = bench_env()
    demo = portside(env, "demo", "--origin", origin)
    with serving(port, env) as server:
        await wait_ready(origin)
        return await exchange(args, origin, demo["widget_key"], server.pid)


async def exchange(args: argparse.Namespace, origin: str, key: str, pid: int) -> dict[str, Any]:
    ws_base = origin.replace("http", "ws", 1)
    shoppers: list[Shopper] = []
    readers = []
    for n in range(args.shoppers):
        ws = await connect(
            f"{ws_base}/ws/widget?store={key}",
            origin=origin,  # type: ignore[arg-type]
            max_queue=None,
            ping_interval=None,
        )
        product = PRODUCTS[n % len(PRODUCTS)]
        context = {"url": f"{origin}/demo/products/{product}", "product": product}
        await ws.send(json.dumps({"v": 1, "type": "hello", "context": context}))
        shopper = Shopper(ws)
        shoppers.append(shopper)
        readers.append(asyncio.create_task(shopper.read()))
    await asyncio.sleep(2)  # the models finish loading; the connections settle
    gc.collect()
    gc.freeze()

    latencies: list[float] = []
    late: Counter[str] = Counter()
    cpu_before = cpu_seconds(pid)
    begin = time.perf_counter()
    until = begin + args.seconds

    # Shoppers start spread over the first think time, not all at once.
    async def staggered(shopper: Shopper, delay: float) -> None:
        await asyncio.sleep(delay)
        await converse(shopper, args, until, latencies, late)

    await asyncio.gather(*(staggered(s, random.uniform(0, args.think_max)) for s in shoppers))
    elapsed = time.perf_counter() - begin
    cpu_ms = (cpu_seconds(pid) - cpu_before) * 1000
    rss = peak_rss_mb(pid)
    for reader in readers:
        reader.cancel()
    for shopper in shoppers:
        with contextlib.suppress(Exception):
            await shopper.ws.close()
    lat = sorted(latencies)
    return {
        "shoppers": args.shoppers,
        "turns": len(lat),
        "seconds": round(elapsed, 1),
        "turns_per_s": round(len(lat) / elapsed, 1),
        "p50_ms": round(percentile(lat, 50), 2),
        "p99_ms": round(percentile(lat, 99), 2),
        "max_ms": round(lat[-1], 2) if lat else None,
        "unanswered": late["unanswered"],
        "server_peak_rss_mb": rss,
        "server_cpu_ms_per_turn": round(cpu_ms / max(1, len(lat)), 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--shoppers", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--think-min", type=float, default=3, help="seconds between turns")
    parser.add_argument("--think-max", type=float, default=10)
    parser.add_argument("--json", action="store_true", help="accepted; the last line is JSON")
    args = parser.parse_args()
    if args.shoppers < 1 or args.seconds <= 0 or not 0 <= args.think_min <= args.think_max:
        parser.error("--shoppers and --seconds must be positive, think-min <= think-max")
    print(json.dumps(asyncio.run(run(args))), flush=True)


if __name__ == "__main__":
    main()
