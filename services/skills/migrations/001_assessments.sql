-- +goose Up
-- Every assessment is kept (history); the latest per user answers GET /skills.
CREATE TABLE assessments (
    id          TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL,
    assessed_at TEXT NOT NULL,
    body        TEXT NOT NULL
);
CREATE INDEX assessments_by_user ON assessments (user_id, assessed_at);

-- +goose Down
DROP TABLE assessments;
