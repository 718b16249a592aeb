-- +goose Up
-- The role catalogue, seeded from the embedded roles.json at start.
CREATE TABLE roles (
    id           TEXT PRIMARY KEY,
    title        TEXT NOT NULL,
    description  TEXT NOT NULL,
    requirements TEXT NOT NULL
);

-- One plan per user: the latest target role and its analysis.
CREATE TABLE plans (
    user_id     TEXT PRIMARY KEY,
    target_role TEXT NOT NULL,
    based_on    TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    body        TEXT NOT NULL
);

-- +goose Down
DROP TABLE plans;
DROP TABLE roles;
