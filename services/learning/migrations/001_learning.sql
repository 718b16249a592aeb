-- +goose Up
-- The course catalogue, seeded from the embedded courses.json at start.
CREATE TABLE courses (
    id       TEXT PRIMARY KEY,
    title    TEXT NOT NULL,
    skill    TEXT NOT NULL,
    level    INTEGER NOT NULL,
    hours    INTEGER NOT NULL,
    provider TEXT NOT NULL
);
CREATE INDEX courses_by_skill ON courses (skill, level);

CREATE TABLE enrollments (
    user_id     TEXT NOT NULL,
    course_id   TEXT NOT NULL REFERENCES courses (id),
    enrolled_at TEXT NOT NULL,
    progress    INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (user_id, course_id)
);

-- The gaps of each user's latest career plan, learned from
-- career.plan.updated events (never from a call to career).
CREATE TABLE user_gaps (
    user_id     TEXT PRIMARY KEY,
    target_role TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    gaps        TEXT NOT NULL
);

-- +goose Down
DROP TABLE user_gaps;
DROP TABLE enrollments;
DROP TABLE courses;
