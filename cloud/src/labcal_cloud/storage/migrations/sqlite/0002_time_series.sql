-- Time indexes for the read API and the daily usage view (SQLite).
CREATE INDEX readings_tenant_device_time ON readings (tenant, device_serial, time);
CREATE INDEX readings_tenant_station_time ON readings (tenant, station, time);
CREATE INDEX usage_tenant_device_time ON usage_reports (tenant, device_serial, time);
CREATE INDEX events_tenant_device_time ON device_events (tenant, device_serial, time);
CREATE INDEX runs_tenant_pipette_time ON runs (tenant, pipette_serial, started_at);

CREATE VIEW usage_daily AS
SELECT tenant,
       device_serial,
       substr(time, 1, 10) AS day,
       min(cycles_total) AS cycles_min,
       max(cycles_total) AS cycles_max,
       count(*) AS reports
FROM usage_reports
GROUP BY tenant, device_serial, substr(time, 1, 10);
