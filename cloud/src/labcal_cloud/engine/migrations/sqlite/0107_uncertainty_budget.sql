-- The GUM budget of every record, one row per series (test volume and channel, in the record's
-- order) and component, and the totals per series (also in
-- record_json; here so that audits and reports can query it). Written with the record, never
-- changed. Records stored before budgets were kept have no rows.
CREATE TABLE calibration_uncertainty (
    record_id             TEXT NOT NULL REFERENCES calibration_record (record_id),
    series                INTEGER NOT NULL,
    volume_ul             DOUBLE PRECISION NOT NULL,
    channel               INTEGER NOT NULL,
    component             TEXT NOT NULL,
    standard_uncertainty_ul DOUBLE PRECISION NOT NULL,
    degrees_of_freedom    DOUBLE PRECISION,
    description           TEXT NOT NULL,
    PRIMARY KEY (record_id, series, component)
);
CREATE TABLE calibration_uncertainty_total (
    record_id            TEXT NOT NULL REFERENCES calibration_record (record_id),
    series               INTEGER NOT NULL,
    volume_ul            DOUBLE PRECISION NOT NULL,
    channel              INTEGER NOT NULL,
    combined_ul          DOUBLE PRECISION NOT NULL,
    effective_dof        DOUBLE PRECISION,
    coverage_factor      DOUBLE PRECISION NOT NULL,
    coverage_probability DOUBLE PRECISION NOT NULL,
    expanded_ul          DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (record_id, series)
);
