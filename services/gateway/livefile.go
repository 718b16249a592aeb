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
	"crypto/sha256"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
)

// liveFile is what the gateway reads from a mounted volume (the JWKS, the
// serving certificate) and reads again when the content changes: polling by
// content hash follows the symlink swap Kubernetes does for a ConfigMap or
// Secret volume. The last value that parsed keeps serving while a newer
// content is refused.
type liveFile[T any] struct {
	paths   []string
	parse   func(data [][]byte, hash string) (*T, error)
	current atomic.Pointer[T]
	refused atomic.Pointer[refusal]
	mu      sync.Mutex
	lastSum [32]byte
}

// reload reads the files and swaps in what they parse to when they changed.
func (f *liveFile[T]) reload() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	h := sha256.New()
	data := make([][]byte, len(f.paths))
	for i, p := range f.paths {
		d, err := os.ReadFile(p)
		if err != nil {
			f.refused.Store(&refusal{err: err})
			// Read again in full next time, so the same content coming back
			// clears the refusal.
			f.lastSum = [32]byte{}
			return err
		}
		data[i] = d
		h.Write(d)
	}
	var sum [32]byte
	copy(sum[:], h.Sum(nil))
	if sum == f.lastSum {
		return nil
	}
	f.lastSum = sum // do not parse (and log) the same bad content every tick
	hash := fmt.Sprintf("sha256:%x", sum)
	v, err := f.parse(data, hash)
	if err != nil {
		f.refused.Store(&refusal{hash: hash, err: err})
		return err
	}
	f.current.Store(v)
	f.refused.Store(nil)
	return nil
}
