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
	"math"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/skillmesh/skillmesh/internal/gatewayconfig"
	"github.com/skillmesh/skillmesh/services/platform/httpx"
)

// rateShards spreads the clients over locks, so concurrent requests from
// different clients rarely wait on each other.
const rateShards = 32

// idleAfter is how long a client's bucket is kept without requests: by then
// it has refilled, so forgetting it changes nothing.
const idleAfter = 10 * time.Minute

// limiter is a token bucket per client address. It outlives reloads of the
// routes file while the rate and burst stay the same, so a reload does not
// hand every client a fresh burst.
type limiter struct {
	limit   rate.Limit
	burst   int
	trusted []netip.Prefix
	shards  [rateShards]limiterShard
}

type limiterShard struct {
	mu      sync.Mutex
	clients map[netip.Addr]*clientBucket
	swept   time.Time
}

type clientBucket struct {
	lim  *rate.Limiter
	seen time.Time
}

func newLimiter(rl *gatewayconfig.RateLimit) *limiter {
	l := &limiter{limit: rate.Limit(rl.RequestsPerSecond), burst: rl.Burst}
	for _, p := range rl.TrustedProxies {
		if prefix, err := gatewayconfig.ParsePrefix(p); err == nil { // validated with the file
			l.trusted = append(l.trusted, prefix)
		}
	}
	for i := range l.shards {
		l.shards[i].clients = map[netip.Addr]*clientBucket{}
	}
	return l
}

// same reports whether l enforces rl, so it can serve a reloaded file.
func (l *limiter) same(rl *gatewayconfig.RateLimit) bool {
	if l == nil || rl == nil || l.limit != rate.Limit(rl.RequestsPerSecond) || l.burst != rl.Burst || len(l.trusted) != len(rl.TrustedProxies) {
		return false
	}
	for i, p := range rl.TrustedProxies {
		if prefix, err := gatewayconfig.ParsePrefix(p); err != nil || prefix != l.trusted[i] {
			return false
		}
	}
	return true
}

// allow takes a token of client's bucket, or says how long until one is
// there.
func (l *limiter) allow(client netip.Addr, now time.Time) (bool, time.Duration) {
	s := &l.shards[shardOf(client)]
	s.mu.Lock()
	b, ok := s.clients[client]
	if !ok {
		b = &clientBucket{lim: rate.NewLimiter(l.limit, l.burst)}
		s.clients[client] = b
	}
	b.seen = now
	if now.Sub(s.swept) > idleAfter {
		for addr, cb := range s.clients {
			if now.Sub(cb.seen) > idleAfter {
				delete(s.clients, addr)
			}
		}
		s.swept = now
	}
	s.mu.Unlock()
	r := b.lim.ReserveN(now, 1)
	if delay := r.DelayFrom(now); delay > 0 {
		r.CancelAt(now)
		return false, delay
	}
	return true, 0
}

func shardOf(a netip.Addr) int {
	b := a.As16()
	var h uint32 = 2166136261
	for _, c := range b {
		h = (h ^ uint32(c)) * 16777619
	}
	return int(h % rateShards)
}

// clientAddr is the address a request is counted against: the direct peer,
// unless the peer is a trusted proxy; then the last address of
// X-Forwarded-For (read from the right) that is not a trusted proxy. A
// client cannot forge its way out: entries left of an untrusted hop are
// never read.
func (l *limiter) clientAddr(r *http.Request) netip.Addr {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	peer, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}
	}
	peer = peer.Unmap()
	if !l.isTrusted(peer) {
		return peer
	}
	hops := r.Header.Values("X-Forwarded-For")
	client := peer
	for _, hop := range slices.Backward(hops) {
		for _, part := range slices.Backward(strings.Split(hop, ",")) {
			a, err := netip.ParseAddr(strings.TrimSpace(part))
			if err != nil {
				return client // a garbled hop: stop at the last one believed
			}
			client = a.Unmap()
			if !l.isTrusted(client) {
				return client
			}
		}
	}
	return client
}

func (l *limiter) isTrusted(a netip.Addr) bool {
	for _, p := range l.trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// limit answers 429 with Retry-After (whole seconds, rounded up) when the
// client has spent its burst.
func (l *limiter) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ok, wait := l.allow(l.clientAddr(r), time.Now())
		if !ok {
			secs := int(math.Ceil(wait.Seconds()))
			w.Header().Set("Retry-After", strconv.Itoa(max(secs, 1)))
			httpx.WriteError(w, httpx.Errorf(http.StatusTooManyRequests, "rate_limited",
				"too many requests from this client: the gateway allows %g per second with bursts of %d; retry after %s",
				float64(l.limit), l.burst, wait.Round(time.Millisecond)))
			return
		}
		next.ServeHTTP(w, r)
	})
}
