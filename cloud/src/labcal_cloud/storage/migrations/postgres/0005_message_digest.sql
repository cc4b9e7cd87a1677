-- sha256 of each message's raw MQTT payload: a message id (or station and sequence number)
-- arriving again with another digest is a conflict (quarantined), not a redelivery.
-- NULL for messages stored before this migration: those compare as redeliveries.
ALTER TABLE messages ADD COLUMN digest bytea;
