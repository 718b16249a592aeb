-- +goose Up
-- Events written in the same transaction as the change they announce, and
-- published afterwards by the relay: a crash between the two loses nothing.
CREATE TABLE outbox (
    id           TEXT PRIMARY KEY,
    topic        TEXT NOT NULL,
    payload      TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    published_at TEXT
);
CREATE INDEX outbox_pending ON outbox (published_at, created_at);

-- Events a consumer has applied, so a redelivery changes nothing.
CREATE TABLE processed_events (
    event_id     TEXT PRIMARY KEY,
    processed_at TEXT NOT NULL
);

-- +goose Down
DROP TABLE processed_events;
DROP TABLE outbox;
