-- The time-based due date, kept with the device so the overview filters and counts in SQL.
ALTER TABLE portal_devices ADD COLUMN due_date TEXT;
UPDATE portal_devices SET due_date = (substr(last_calibrated_at, 1, 10)::date + interval_days)::text
    WHERE last_calibrated_at IS NOT NULL;
CREATE INDEX portal_devices_due ON portal_devices(tenant_id, due_date)
