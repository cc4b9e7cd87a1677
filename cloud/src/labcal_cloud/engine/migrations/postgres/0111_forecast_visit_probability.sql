-- What the service plan shows of a forecast: the alert probability and lead it was made with,
-- and P(beyond the guard band by the visit `lead_days` from now). NULL: an older forecast.
ALTER TABLE maintenance_forecast ADD COLUMN alert_probability DOUBLE PRECISION;
ALTER TABLE maintenance_forecast ADD COLUMN lead_days DOUBLE PRECISION;
ALTER TABLE maintenance_forecast ADD COLUMN probability_by_lead DOUBLE PRECISION;
