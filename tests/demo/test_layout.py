"""The files the demo writes are accepted by the real parsers of the simulator and the edge."""

from __future__ import annotations

from pathlib import Path

from labcal_cloud.demo.layout import (
    BALANCE_STATION,
    BENCH_STATION,
    DemoPaths,
    edge_toml,
    gravimetric_script,
    station_toml,
)
from labcal_cloud.serve.broker import mosquitto_conf
from labcal_edge.config import parse_config
from labcal_sim.station_config import parse_station_config


def test_station_files_parse_and_serve_every_device_on_a_pty(tmp_path: Path) -> None:
    paths = DemoPaths(tmp_path)
    config = parse_station_config(station_toml(paths, BALANCE_STATION, seed=1))
    assert config.balance is not None
    assert config.balance.serial == BALANCE_STATION.balance_serial
    assert [p.serial for p in config.pipettes] == [p.serial for p in BALANCE_STATION.pipettes]
    assert config.sensor is not None
    assert {config.balance.transport, config.sensor.transport} == {"pty"}
    bench = parse_station_config(station_toml(paths, BENCH_STATION, seed=2))
    assert bench.balance is None
    assert len(bench.pipettes) == 3


def test_edge_files_parse_and_point_at_the_stations_pty_links(tmp_path: Path) -> None:
    paths = DemoPaths(tmp_path)
    config = parse_config(edge_toml(paths, BALANCE_STATION, "tenant1", 41883))
    assert (config.station.tenant, config.station.id) == ("tenant1", "demo-bal-01")
    assert (config.mqtt.host, config.mqtt.port) == ("127.0.0.1", 41883)
    elsewhere = parse_config(edge_toml(paths, BALANCE_STATION, "t", 1883, mqtt_host="mq.lab"))
    assert elsewhere.mqtt.host == "mq.lab"  # demo up --mqtt-url
    assert config.mqtt.protocol == "5"
    embedded = parse_config(
        edge_toml(
            paths, BALANCE_STATION, "tenant1", 41883, mqtt_protocol="3.1.1", mqtt_username="st"
        )
    )
    assert embedded.mqtt.protocol == "3.1.1"  # for the embedded amqtt broker
    assert embedded.mqtt.username == "st"  # amqtt keeps the sessions of named clients only
    assert config.mqtt.username is None
    assert config.balance[0].port == str(paths.devices(BALANCE_STATION) / "balance-B-DEMO-0001")
    assert [p.port.rsplit("/", 1)[1] for p in config.pipette] == [
        "pipette-LP1000-0101",
        "pipette-LP100-0102",
    ]
    assert config.environment is not None
    only_second = parse_config(
        edge_toml(paths, BALANCE_STATION, "tenant1", 1, pipettes=BALANCE_STATION.pipettes[1:])
    )
    assert [p.port.rsplit("-", 1)[1] for p in only_second.pipette] == ["0102"]


def test_scripts_and_broker_config() -> None:
    assert "volumes_ul = [1000, 500, 100]" in gravimetric_script((1000.0, 500.0, 100.0))
    assert "volumes_ul" not in gravimetric_script(())
    conf = mosquitto_conf(41883, Path("/x"), "me")
    assert "listener 41883 127.0.0.1\n" in conf
    assert "user me\n" in conf
    assert "persistence false\n" in conf  # the demo's broker starts empty every time
    kept = mosquitto_conf(1883, Path("/x/logs"), "me", Path("/x/broker/data"))
    assert "persistence true\npersistence_location /x/broker/data/\n" in kept  # serve's
