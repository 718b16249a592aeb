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

package gateway

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// A file that goes missing and comes back as it was clears its refusal
// (it was kept forever before: the content hash had not changed).
func TestLiveFile_a_file_back_as_it_was_clears_the_refusal(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f")
	f := &liveFile[string]{paths: []string{path}, parse: func(data [][]byte, _ string) (*string, error) {
		s := string(data[0])
		if s == "bad" {
			return nil, errors.New("bad content")
		}
		return &s, nil
	}}
	write := func(s string) {
		if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("v1")
	if err := f.reload(); err != nil || *f.current.Load() != "v1" {
		t.Fatalf("first load: %v", err)
	}
	write("bad")
	if err := f.reload(); err == nil || f.refused.Load() == nil || *f.current.Load() != "v1" {
		t.Fatalf("bad content: err %v, the previous value must keep serving", err)
	}
	write("v1")
	_ = f.reload()
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if err := f.reload(); err == nil || f.refused.Load() == nil {
		t.Fatal("a missing file must be refused")
	}
	write("v1")
	if err := f.reload(); err != nil || f.refused.Load() != nil || *f.current.Load() != "v1" {
		t.Errorf("the same content back: err %v, refused %v", err, f.refused.Load())
	}
}
