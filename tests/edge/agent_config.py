"""Build agent configuration files for tests."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit


def agent_toml(
    tmp: Path,
    tenant: str,
    mqtt_url: str,
    *,
    balance: str | None = None,
    balance_poll_s: float | None = None,
    balance_batch: int | None = None,
    pipettes: tuple[str, ...] = (),
    scanner: str | None = None,
    sensor: str | None = None,
    extra: str = "",
) -> Path:
    parts = urlsplit(mqtt_url)
    text = (
        f'log_level = "DEBUG"\n'
        f'[station]\ntenant = "{tenant}"\nid = "st1"\ndata_dir = "{tmp / "data"}"\n'
        f'[mqtt]\nhost = "{parts.hostname}"\nport = {parts.port}\n'
        "reconnect_base_s = 0.2\nreconnect_cap_s = 1.0\n"
        "[usage]\npoll_interval_s = 0.2\n"
        '[clock]\nntp = "none"\n'
    )
    if "delivery_wait_s" in extra:
        pass
    elif "[gravimetric]" not in extra:
        extra = "[gravimetric]\ndelivery_wait_s = 0\n" + extra
    else:
        extra = extra.replace("[gravimetric]\n", "[gravimetric]\ndelivery_wait_s = 0\n")
    if balance is not None:
        text += f'[[balance]]\nname = "bal"\nport = "{balance}"\ntimeout_s = 1.0\n'
        if balance_poll_s is not None:
            text += f"poll_s = {balance_poll_s}\n"
        if balance_batch is not None:
            text += f"batch = {balance_batch}\n"
    for i, port in enumerate(pipettes):
        text += f'[[pipette]]\nname = "p{i}"\nport = "{port}"\ntimeout_s = 1.0\n'
    if scanner is not None:
        text += f'[scanner]\nname = "scanner"\nport = "{scanner}"\n'
    if sensor is not None:
        text += f'[environment]\nname = "env"\nport = "{sensor}"\n'
    path = tmp / "edge.toml"
    path.write_text(text + extra)
    return path
