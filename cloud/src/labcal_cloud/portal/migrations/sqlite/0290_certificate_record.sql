-- A certificate belongs to one calibration record (the engine's calibration_record.record_id,
-- as text): the pipeline certifies each record once, the API's own records carry theirs too.
ALTER TABLE portal_calibrations ADD COLUMN record_id TEXT;
CREATE UNIQUE INDEX portal_calibrations_record ON portal_calibrations (record_id);
