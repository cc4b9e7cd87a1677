-- A covering index for the device overview: due states are counted and ranked from the index
-- alone; only the rows of the page shown are read from the table.
CREATE INDEX portal_devices_overview
    ON portal_devices(tenant_id, due_date, usage_cycles, cycles_limit, site_id, serial, id)
