-- A tenant's service policy: the planner's choice on the policy curve, a budget (visits per
-- device-year) or a target (days out of tolerance per device-year). The engine reads it when
-- it forecasts and plans (engine/service_policy.py); `labcal-cloud engine service-policy` sets it.
CREATE TABLE engine_service_policy (
    tenant      TEXT PRIMARY KEY,
    target      TEXT NOT NULL CHECK (target IN ('budget', 'days_out_of_tolerance')),
    value       REAL NOT NULL CHECK (value >= 0 AND value <= 365),
    updated_at  TEXT NOT NULL,
    updated_by  TEXT NOT NULL DEFAULT ''
);
