from pathlib import Path

import pytest

from labcal_edge.config import FullPolicy, load_config, parse_config
from labcal_edge.errors import ConfigError

GOOD = """
[station]
tenant = "acme"
id = "bench-1"
data_dir = "/tmp/labcal"

[mqtt]
host = "broker.example"
port = 8883
username = "bench-1"
password = "secret"
[mqtt.tls]
ca_file = "/etc/labcal/ca.pem"

[outbox]
capacity = 5000
policy = "drop_oldest"

[[balance]]
name = "xs205"
port = "/dev/serial/by-id/usb-FTDI_FT232R-if00-port0"
dialect = "mt-sics"

[[pipette]]
name = "p1"
port = "socket://127.0.0.1:7001"
"""


def test_good_config_is_parsed_with_defaults() -> None:
    cfg = parse_config(GOOD)
    assert cfg.station.tenant == "acme"
    assert cfg.mqtt.tls is not None
    assert cfg.mqtt.tls.cert_file is None
    assert cfg.outbox.policy is FullPolicy.DROP_OLDEST
    assert cfg.outbox_path == Path("/tmp/labcal/outbox.sqlite3")
    assert cfg.balance[0].baudrate == 9600
    assert cfg.pipette[0].port.startswith("socket://")
    assert cfg.client_id == "labcal-edge-acme-bench-1"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[station\n", "not valid TOML"),
        ("[mqtt]\nport = 1\n", "station: Field required"),
        ('[station]\ntenant = "a/b"\nid = "s"\n', "invalid tenant"),
        ('[station]\ntenant = "a"\nid = "s"\n[mqtt]\nport = 70000\n', "mqtt.port"),
        ('[station]\ntenant = "a"\nid = "s"\n[mqtt]\nprot = 1\n', "mqtt.prot: Extra inputs"),
        ('[station]\ntenant = "a"\nid = "s"\n[outbox]\npolicy = "yolo"\n', "outbox.policy"),
        ('[station]\ntenant = "a"\nid = "s"\n[mqtt]\npassword = "x"\n', "needs a username"),
        (
            '[station]\ntenant = "a"\nid = "s"\n[mqtt.tls]\nca_file = "c"\ncert_file = "x"\n',
            "go together",
        ),
        (
            '[station]\ntenant = "a"\nid = "s"\n[[balance]]\nname = "b"\nport = "p"\n'
            '[[pipette]]\nname = "b"\nport = "q"\n',
            "repeated: b",
        ),
        (
            '[station]\ntenant = "a"\nid = "s"\n[[balance]]\nname = "b"\nport = "p"\n'
            'dialect = "ohaus"\n',
            "balance.0.dialect",
        ),
    ],
)
def test_bad_configs_say_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as info:
        parse_config(text, "edge.toml")
    assert str(info.value).startswith("edge.toml: ")


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read the configuration file"):
        load_config(tmp_path / "nope.toml")
