"""S0 of the benchmark: a Stasis app that hands every call straight back to the dialplan.

The cost of the Stasis hop alone (an ARI event in, one request out), against which the full
controller is compared. Run by `pbx-bridge bench` as `python -m pbx_bridge.bench.continue_app`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
from typing import Any

import aiohttp

from pbx_bridge.asterisk.ari import AriClient, AriError
from pbx_bridge.config import Settings, load_settings

BENCH_APP_SUFFIX = "-bench"


def app_name(settings: Settings) -> str:
    return settings.ari_app + BENCH_APP_SUFFIX


async def _continue(ari: AriClient, channel_id: str) -> None:
    with contextlib.suppress(AriError):  # the caller hung up meanwhile: nothing to continue
        await ari.request("POST", f"/channels/{channel_id}/continue")


async def run(settings: Settings) -> None:
    password = settings.ari_password.get_secret_value() if settings.ari_password else ""
    pending: set[asyncio.Task[Any]] = set()
    async with aiohttp.ClientSession() as session:
        ari = AriClient(
            session,
            base_url=settings.ari_url,
            username=settings.ari_username,
            password=password,
            app=app_name(settings),
        )
        async for event in ari.events():
            if event.get("type") == "StasisStart":
                task = asyncio.create_task(_continue(ari, event["channel"]["id"]))
                pending.add(task)
                task.add_done_callback(pending.discard)


def main() -> None:
    parser = argparse.ArgumentParser(
        description="S0 of `pbx-bridge bench`: continue every call of the "
        "<PBX_BRIDGE_ARI_APP>-bench Stasis app at once. Settings as for pbx-bridge."
    )
    parser.parse_args()
    asyncio.run(run(load_settings()))


if __name__ == "__main__":
    main()
