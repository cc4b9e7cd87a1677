-- One device identity: the registry's device id (portal_devices.id) beside (tenant, serial) on
-- the engine's due states, their change log and forecasts. The engine fills it for every
-- registered device; it stays NULL for a pipette the registry does not know (reported by a
-- station, never registered), which keeps its (tenant, serial) key.
ALTER TABLE device_due_state ADD COLUMN device_id TEXT;
ALTER TABLE due_state_event ADD COLUMN device_id TEXT;
ALTER TABLE maintenance_forecast ADD COLUMN device_id TEXT;
CREATE INDEX device_due_state_device ON device_due_state (device_id);
CREATE INDEX maintenance_forecast_device ON maintenance_forecast (device_id);
