-- Decision rules (ILAC-G8) per tenant (device_serial '') or per device, and the verdict of
-- every record with the rule it was judged by. Records stored before hold '' (their verdict is
-- read from record_json: see engine/record_codec.py).
CREATE TABLE decision_rule (
    tenant        TEXT NOT NULL,
    device_serial TEXT NOT NULL DEFAULT '',
    rule          TEXT NOT NULL CHECK (rule IN ('simple_acceptance', 'guarded_acceptance')),
    updated_at    TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant, device_serial)
);
ALTER TABLE calibration_record ADD COLUMN verdict TEXT NOT NULL DEFAULT '';
ALTER TABLE calibration_record ADD COLUMN decision_rule TEXT NOT NULL DEFAULT 'simple_acceptance';
