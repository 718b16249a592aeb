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

// Package dbtest runs a repository test on every engine the services
// support, so the same code and the same assertions prove both.
package dbtest

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/skillmesh/skillmesh/internal/testutil/pgserver"
	"github.com/skillmesh/skillmesh/services/platform/store"
)

// Engines runs fn as subtest "sqlite" on a fresh SQLite file and as
// "postgres" on a fresh database of pg.
func Engines(t *testing.T, pg *pgserver.Server, fn func(t *testing.T, db *store.DB)) {
	t.Helper()
	for _, e := range []struct {
		name string
		url  func(t *testing.T) string
	}{
		{"sqlite", func(t *testing.T) string { return "sqlite://" + filepath.Join(t.TempDir(), "svc.db") }},
		{"postgres", func(t *testing.T) string { return pg.NewDatabase(t) }},
	} {
		t.Run(e.name, func(t *testing.T) {
			db, err := store.Open(context.Background(), e.url(t))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = db.Close() })
			fn(t, db)
		})
	}
}
