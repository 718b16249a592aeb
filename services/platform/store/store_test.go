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

package store_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/skillmesh/skillmesh/internal/testutil/pgserver"
	"github.com/skillmesh/skillmesh/services/platform/store"
)

var pg *pgserver.Server

func TestMain(m *testing.M) {
	var err error
	pg, err = pgserver.Start()
	if err != nil {
		fmt.Fprintln(os.Stderr, "postgres for the store tests:", err)
		os.Exit(1)
	}
	code := m.Run()
	pg.Stop()
	os.Exit(code)
}

var migrations = fstest.MapFS{
	"001_notes.sql": {Data: []byte(`-- +goose Up
CREATE TABLE notes (id TEXT PRIMARY KEY, body TEXT NOT NULL);
-- +goose Down
DROP TABLE notes;
`)},
}

// engines runs fn once on SQLite and once on PostgreSQL: the same code, the
// same assertions.
func engines(t *testing.T, fn func(t *testing.T, db *store.DB)) {
	t.Run("sqlite", func(t *testing.T) {
		db, err := store.Open(context.Background(), "sqlite://"+filepath.Join(t.TempDir(), "sub", "svc.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = db.Close() })
		fn(t, db)
	})
	t.Run("postgres", func(t *testing.T) {
		db, err := store.Open(context.Background(), pg.NewDatabase(t))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = db.Close() })
		fn(t, db)
	})
}

func TestMigrate_is_idempotent_and_queries_rebind(t *testing.T) {
	engines(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		for range 2 {
			if err := db.Migrate(ctx, migrations); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := db.ExecContext(ctx, db.Rebind(`INSERT INTO notes (id, body) VALUES (?, ?)`), "n1", "hello"); err != nil {
			t.Fatal(err)
		}
		var body string
		if err := db.QueryRowContext(ctx, db.Rebind(`SELECT body FROM notes WHERE id = ?`), "n1").Scan(&body); err != nil || body != "hello" {
			t.Fatalf("body = %q, err = %v", body, err)
		}
	})
}

func TestInTx_writes_all_or_nothing(t *testing.T) {
	engines(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		if err := db.Migrate(ctx, migrations); err != nil {
			t.Fatal(err)
		}
		boom := errors.New("second write failed")
		err := db.InTx(ctx, func(tx *sql.Tx) error {
			if _, err := tx.ExecContext(ctx, db.Rebind(`INSERT INTO notes (id, body) VALUES (?, ?)`), "a", "x"); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("InTx returned %v, want the callback's error", err)
		}
		var n int
		if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM notes`).Scan(&n); err != nil || n != 0 {
			t.Fatalf("rows after rollback = %d (err %v), want 0", n, err)
		}
	})
}

func TestOpen_sqlite_uses_WAL(t *testing.T) {
	db, err := store.Open(context.Background(), "sqlite://"+filepath.Join(t.TempDir(), "wal.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = db.Close() }()
	var mode string
	if err := db.QueryRow(`PRAGMA journal_mode`).Scan(&mode); err != nil || mode != "wal" {
		t.Errorf("journal_mode = %q (err %v), want wal", mode, err)
	}
	if db.Engine != store.SQLite {
		t.Errorf("engine = %q", db.Engine)
	}
}

func TestOpen_empty_URL_is_a_temporary_sqlite_file(t *testing.T) {
	db, err := store.Open(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = db.Close() }()
	if db.Engine != store.SQLite {
		t.Errorf("engine = %q, want sqlite", db.Engine)
	}
}

func TestOpen_rejects_unknown_URLs_without_leaking_passwords(t *testing.T) {
	_, err := store.Open(context.Background(), "mysql://app:s3cret@db:3306/skills")
	if err == nil || strings.Contains(err.Error(), "s3cret") || !strings.Contains(err.Error(), "postgres://") {
		t.Errorf("err = %v", err)
	}
	if _, err := store.Open(context.Background(), "sqlite://"); err == nil {
		t.Errorf("sqlite:// without a file should be refused")
	}
}

func TestOpen_unreachable_postgres_fails_with_context(t *testing.T) {
	_, err := store.Open(context.Background(), "postgres://nobody@127.0.0.1:1/none?sslmode=disable&connect_timeout=2")
	if err == nil || !strings.Contains(err.Error(), "connect to postgres database") {
		t.Errorf("err = %v", err)
	}
}

func TestTimeKey_orders_as_text_and_Clock_never_repeats(t *testing.T) {
	base := time.Date(2026, 11, 26, 20, 43, 45, 200_000_000, time.UTC)
	a, b := store.TimeKey(base), store.TimeKey(base.Add(3*time.Millisecond))
	if a >= b {
		t.Errorf("TimeKey %q does not sort before %q", a, b)
	}
	// RFC 3339 with trimmed fractions would put "…45.2Z" after "…45.203Z".
	if base.Format(time.RFC3339Nano) < base.Add(3*time.Millisecond).Format(time.RFC3339Nano) {
		t.Fatalf("the premise changed: RFC 3339 now sorts; TimeKey may be unnecessary")
	}
	var c store.Clock
	prev := c.Now()
	for range 10_000 {
		next := c.Now()
		if !next.After(prev) {
			t.Fatalf("Clock repeated or went back: %v after %v", next, prev)
		}
		prev = next
	}
}
