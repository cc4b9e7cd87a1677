-- What the service plan shows of a forecast: the alert probability and lead it was made with,
-- and P(beyond the guard band by the visit `lead_days` from now). NULL: an older forecast.
ALTER TABLE maintenance_forecast ADD COLUMN alert_probability REAL;
ALTER TABLE maintenance_forecast ADD COLUMN lead_days REAL;
ALTER TABLE maintenance_forecast ADD COLUMN probability_by_lead REAL;
