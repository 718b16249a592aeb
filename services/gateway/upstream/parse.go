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

package upstream

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httputil"
	"strconv"
	"strings"
)

// hopByHopHeaders are the fields of one connection, never forwarded (RFC
// 9110 §7.6.1), in canonical form.
var hopByHopHeaders = []string{
	"Connection", "Proxy-Connection", "Keep-Alive", "Proxy-Authenticate", "Proxy-Authorization",
	"Te", "Trailer", "Transfer-Encoding", "Upgrade",
}

func hopByHop(k string) bool {
	switch k {
	case "Connection", "Proxy-Connection", "Keep-Alive", "Proxy-Authenticate", "Proxy-Authorization",
		"Te", "Trailer", "Transfer-Encoding", "Upgrade":
		return true
	}
	return false
}

// parseStatusLine reads "HTTP/1.1 200 OK".
func parseStatusLine(line []byte) (major, minor, status int, err error) {
	if len(line) < 12 || string(line[:5]) != "HTTP/" || line[6] != '.' || line[8] != ' ' ||
		!digit(line[5]) || !digit(line[7]) || len(line) > 12 && line[12] != ' ' {
		return 0, 0, 0, fmt.Errorf("upstream: malformed status line %q", truncate(line))
	}
	major, minor = int(line[5]-'0'), int(line[7]-'0')
	if major != 1 {
		return 0, 0, 0, fmt.Errorf("upstream: HTTP/%d.%d answered to an HTTP/1.1 request", major, minor)
	}
	for _, d := range line[9:12] {
		if !digit(d) {
			return 0, 0, 0, fmt.Errorf("upstream: malformed status code in %q", truncate(line))
		}
		status = status*10 + int(d-'0')
	}
	if status < 100 {
		return 0, 0, 0, fmt.Errorf("upstream: status %d", status)
	}
	return major, minor, status, nil
}

func digit(b byte) bool { return b >= '0' && b <= '9' }

// contentLength is the answer's one Content-Length; several that differ
// are an error (a response-splitting attempt, RFC 9112 §6.3).
func contentLength(h http.Header) (int64, bool, error) {
	vs := h["Content-Length"]
	if len(vs) == 0 {
		return 0, false, nil
	}
	first := strings.TrimSpace(vs[0])
	for _, v := range vs[1:] {
		if strings.TrimSpace(v) != first {
			return 0, false, fmt.Errorf("upstream: conflicting Content-Length %q", vs)
		}
	}
	n, err := strconv.ParseInt(first, 10, 64)
	if err != nil || n < 0 || first[0] == '+' {
		return 0, false, fmt.Errorf("upstream: bad Content-Length %q", first)
	}
	if len(vs) > 1 {
		h["Content-Length"] = vs[:1]
	}
	return n, true, nil
}

// newChunkedReader decodes a chunked body; the trailer, if any, is read and
// dropped.
func newChunkedReader(br *bufio.Reader) io.Reader {
	return &chunked{r: httputil.NewChunkedReader(br), br: br}
}

type chunked struct {
	r  io.Reader
	br *bufio.Reader
}

func (c *chunked) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if errors.Is(err, io.EOF) {
		// httputil's reader stops after the last chunk's size line; the
		// trailer section and its blank line follow.
		for {
			line, lerr := c.br.ReadSlice('\n')
			if lerr != nil {
				return n, io.ErrUnexpectedEOF
			}
			if len(line) <= 2 && strings.TrimRight(string(line), "\r\n") == "" {
				break
			}
		}
	}
	return n, err
}

func indexByte(b []byte, c byte) int {
	for i, x := range b {
		if x == c {
			return i
		}
	}
	return -1
}

func trimSpace(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t') {
		b = b[:len(b)-1]
	}
	return b
}

// canonical reports whether key is already in canonical MIME form (what Go
// and most servers send), so the common case copies no bytes twice.
func canonical(key []byte) bool {
	upper := true
	for _, c := range key {
		if !tokenByte(c) {
			return true // left as it is, as textproto does
		}
		if upper && 'a' <= c && c <= 'z' || !upper && 'A' <= c && c <= 'Z' {
			return false
		}
		upper = c == '-'
	}
	return true
}

// canonicalize rewrites key in place into canonical MIME form.
func canonicalize(key []byte) {
	for _, c := range key {
		if !tokenByte(c) {
			return
		}
	}
	upper := true
	for i, c := range key {
		if upper && 'a' <= c && c <= 'z' {
			key[i] = c - ('a' - 'A')
		} else if !upper && 'A' <= c && c <= 'Z' {
			key[i] = c + ('a' - 'A')
		}
		upper = c == '-'
	}
}

func tokenByte(c byte) bool {
	if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' {
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

// validValue refuses a header value that could end the line early.
func validValue(v string) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; c == '\r' || c == '\n' || c == 0 {
			return false
		}
	}
	return true
}

func splitTokens(v string) []string {
	var out []string
	for t := range strings.SplitSeq(v, ",") {
		if t = strings.TrimSpace(t); t != "" {
			out = append(out, t)
		}
	}
	return out
}

func equalFold(a, b string) bool { return strings.EqualFold(a, b) }

func truncate(b []byte) string {
	if len(b) > 64 {
		return string(b[:64]) + "…"
	}
	return string(b)
}
