-- The machine-readable twin of each certificate: the PTB Digital Calibration Certificate (DCC,
-- XML, signed with XML-DSig by the same key as the PDF) and its SHA-256. Certificates issued
-- before this migration have none (NULL).
ALTER TABLE portal_calibrations ADD COLUMN dcc_xml TEXT;
ALTER TABLE portal_calibrations ADD COLUMN dcc_sha256 TEXT
