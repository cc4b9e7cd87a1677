-- Provider capacity (technicians), bookings of one or more devices, NPS survey answers.
CREATE TABLE portal_technicians (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    weekdays TEXT NOT NULL DEFAULT '0,1,2,3,4',
    daily_slots INTEGER NOT NULL DEFAULT 2
);
CREATE TABLE portal_bookings (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES portal_tenants(id),
    site_id TEXT NOT NULL REFERENCES portal_sites(id),
    technician_id TEXT NOT NULL REFERENCES portal_technicians(id),
    day TEXT NOT NULL,
    pickup INTEGER NOT NULL DEFAULT 0,
    status TEXT NOT NULL CHECK (status IN ('confirmed', 'cancelled', 'done')),
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL
);
CREATE INDEX portal_bookings_tenant ON portal_bookings(tenant_id, day);
CREATE TABLE portal_booking_devices (
    booking_id TEXT NOT NULL REFERENCES portal_bookings(id),
    device_id TEXT NOT NULL REFERENCES portal_devices(id),
    PRIMARY KEY (booking_id, device_id)
);
CREATE TABLE portal_nps (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES portal_tenants(id),
    user_id TEXT NOT NULL,
    score INTEGER NOT NULL CHECK (score BETWEEN 0 AND 10),
    answered_at TEXT NOT NULL
)
