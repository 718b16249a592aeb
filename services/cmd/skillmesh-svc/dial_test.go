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

package main

import (
	"bytes"
	"net"
	"strings"
	"testing"
)

// Real sockets on loopback: one that listens, one that was closed (nothing
// listens: refused). A dropped packet (timeout) needs a firewall and is
// seen in the e2e matrix.
func TestDial_says_open_or_refused_per_target_in_order(t *testing.T) {
	open, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = open.Close() }()
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedAddr := closed.Addr().String()
	_ = closed.Close()

	var out bytes.Buffer
	if err := run(t.Context(), []string{"dial", "-timeout", "2s", "up=" + open.Addr().String(), "down=" + closedAddr, open.Addr().String()},
		nil, &out, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	want := "up open\ndown refused\n" + open.Addr().String() + " open\n"
	if out.String() != want {
		t.Errorf("got\n%s\nwant\n%s", out.String(), want)
	}
}

func TestDial_refuses_a_target_without_a_port(t *testing.T) {
	err := run(t.Context(), []string{"dial", "skills=skills.example"}, nil, &bytes.Buffer{}, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "want name=host:port") {
		t.Errorf("error %v", err)
	}
}
