/*
Copyright 2026 The skillmesh Authors.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

// Package store opens a service's own database from the DATABASE_URL the
// operator injects and migrates it with the service's embedded migrations.
//
//   - sqlite:///data/skills.db — embedded SQLite (pure Go, modernc.org/sqlite)
//     in WAL mode; the default, one writer.
//   - postgres://… or postgresql://… — PostgreSQL through pgx.
//   - empty — a SQLite file in a fresh temporary directory, for local runs.
//
// Queries are written once with `?` placeholders; Rebind turns them into
// PostgreSQL's $1, $2 … so the same repository code and the same tests run
// on both engines.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
	"github.com/pressly/goose/v3"
	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// Engine names a database engine.
type Engine string

const (
	SQLite   Engine = "sqlite"
	Postgres Engine = "postgres"
)

// DB is a database/sql handle that knows its engine.
type DB struct {
	*sql.DB
	Engine Engine
}

// Open connects to url and checks the connection.
func Open(ctx context.Context, url string) (*DB, error) {
	engine, driver, dsn, err := parse(url)
	if err != nil {
		return nil, err
	}
	sqlDB, err := sql.Open(driver, dsn)
	if err != nil {
		return nil, fmt.Errorf("open %s database: %w", engine, err)
	}
	if engine == SQLite {
		// SQLite has one writer; a single connection serialises writes in
		// the process instead of failing them with SQLITE_BUSY.
		sqlDB.SetMaxOpenConns(1)
	} else {
		sqlDB.SetMaxOpenConns(10)
		sqlDB.SetMaxIdleConns(5)
		sqlDB.SetConnMaxIdleTime(5 * time.Minute)
	}
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := sqlDB.PingContext(pctx); err != nil {
		_ = sqlDB.Close()
		return nil, fmt.Errorf("connect to %s database: %w", engine, err)
	}
	return &DB{DB: sqlDB, Engine: engine}, nil
}

func parse(url string) (engine Engine, driver, dsn string, err error) {
	switch {
	case url == "":
		dir, err := os.MkdirTemp("", "skillmesh-db-")
		if err != nil {
			return "", "", "", fmt.Errorf("temporary database directory: %w", err)
		}
		return SQLite, "sqlite", sqliteDSN(filepath.Join(dir, "service.db")), nil
	case strings.HasPrefix(url, "sqlite://"):
		path := strings.TrimPrefix(url, "sqlite://")
		if path == "" {
			return "", "", "", errors.New("DATABASE_URL sqlite:// names no file; use sqlite:///data/<name>.db")
		}
		if dir := filepath.Dir(path); dir != "" {
			if err := os.MkdirAll(dir, 0o750); err != nil {
				return "", "", "", fmt.Errorf("create directory for %s: %w", path, err)
			}
		}
		return SQLite, "sqlite", sqliteDSN(path), nil
	case strings.HasPrefix(url, "postgres://"), strings.HasPrefix(url, "postgresql://"):
		return Postgres, "pgx", url, nil
	default:
		return "", "", "", fmt.Errorf("DATABASE_URL %q: want sqlite:///path/file.db or postgres://…", redact(url))
	}
}

// sqliteDSN turns on WAL (readers do not block the writer), waits on a busy
// file instead of failing, and enforces foreign keys.
func sqliteDSN(path string) string {
	return "file:" + path + "?_pragma=journal_mode(WAL)&_pragma=busy_timeout(5000)" +
		"&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)"
}

// redact hides a password in a URL shown in an error.
func redact(url string) string {
	scheme, rest, ok := strings.Cut(url, "://")
	if !ok {
		return url
	}
	creds, host, ok := strings.Cut(rest, "@")
	if !ok {
		return url
	}
	user, _, _ := strings.Cut(creds, ":")
	return scheme + "://" + user + ":***@" + host
}

// Migrate applies every migration in fsys (goose SQL files) that has not run.
func (db *DB) Migrate(ctx context.Context, fsys fs.FS) error {
	return db.MigrateSet(ctx, "goose_db_version", fsys)
}

// MigrateSet applies a set of migrations that keeps its own version table,
// so a shared part (the outbox) migrates beside the service's own schema
// without their version numbers clashing.
func (db *DB) MigrateSet(ctx context.Context, versionTable string, fsys fs.FS) error {
	dialect := goose.DialectSQLite3
	if db.Engine == Postgres {
		dialect = goose.DialectPostgres
	}
	p, err := goose.NewProvider(dialect, db.DB, fsys, goose.WithTableName(versionTable))
	if err != nil {
		return fmt.Errorf("load migrations: %w", err)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return nil
}

// Rebind rewrites `?` placeholders for the engine.
func (db *DB) Rebind(query string) string {
	if db.Engine != Postgres {
		return query
	}
	var b strings.Builder
	b.Grow(len(query) + 8)
	n := 0
	for i := 0; i < len(query); i++ {
		if query[i] == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(query[i])
	}
	return b.String()
}

// InTx runs fn in a transaction, committing when it returns nil, so a
// request either writes everything or nothing.
func (db *DB) InTx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// Ping is the readiness check.
func (db *DB) Ping(ctx context.Context) error { return db.PingContext(ctx) }

// TimeKey formats t with a fixed width, so times stored as TEXT order
// correctly on both engines (RFC 3339 with trimmed fractions does not:
// "…45.2Z" sorts after "…45.203Z").
func TimeKey(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000000000Z") }

// Clock hands out strictly increasing times, so rows written in the same
// instant by one process still have an order.
type Clock struct {
	mu   sync.Mutex
	last time.Time
}

// Now returns the current time, later than any it returned before.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := time.Now().UTC()
	if !now.After(c.last) {
		now = c.last.Add(time.Nanosecond)
	}
	c.last = now
	return now
}
