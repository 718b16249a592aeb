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

// devtoken is make dev's token issuer (development only):
//
//	devtoken jwks DIR              prints the JWKS of DIR's key pair (made the first time)
//	devtoken token DIR USER [TTL]  prints a token for USER (default TTL 24h)
package main

import (
	"fmt"
	"os"
	"time"

	"github.com/skillmesh/skillmesh/internal/devauth"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "devtoken:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	if len(args) < 2 {
		return fmt.Errorf("usage: devtoken jwks DIR | devtoken token DIR USER [TTL]")
	}
	k, err := devauth.LoadOrCreate(args[1])
	if err != nil {
		return err
	}
	switch args[0] {
	case "jwks":
		data, err := k.JWKS()
		if err != nil {
			return err
		}
		fmt.Println(string(data))
	case "token":
		if len(args) < 3 {
			return fmt.Errorf("usage: devtoken token DIR USER [TTL]")
		}
		ttl := 24 * time.Hour
		if len(args) > 3 {
			if ttl, err = time.ParseDuration(args[3]); err != nil {
				return err
			}
		}
		tok, err := k.Token(args[2], ttl)
		if err != nil {
			return err
		}
		fmt.Println(tok)
	default:
		return fmt.Errorf("unknown command %q", args[0])
	}
	return nil
}
