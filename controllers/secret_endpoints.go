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

package controllers

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"sync"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	platformv1alpha1 "github.com/skillmesh/skillmesh/api/v1alpha1"
)

// secretURL names a Secret key that holds the URL of something the pods
// call, and what it is to them.
type secretURL struct {
	Role string
	Ref  platformv1alpha1.SecretKeySelector
}

// microserviceSecretURLs are the URLs a Microservice's pods are given from
// Secrets: its broker and its PostgreSQL server.
func microserviceSecretURLs(ms *platformv1alpha1.Microservice) []secretURL {
	var out []secretURL
	if ev := ms.Spec.Events; ev != nil {
		out = append(out, secretURL{Role: "broker", Ref: ev.BrokerSecretRef})
	}
	if db := ms.Spec.Database; isPostgres(db) && db.URLSecretRef != nil {
		out = append(out, secretURL{Role: "database", Ref: *db.URLSecretRef})
	}
	return out
}

// hostPort is what the operator keeps of a URL held in a Secret: its host
// and port, never the credentials beside them.
type hostPort struct {
	// Version is the Secret's uid/resourceVersion it was read at.
	Version string
	Host    string
	Port    int32
	// Err says why there is no host (the key is missing, not a URL).
	Err string
}

// endpointResolver maps the URLs that Secrets hold to the pods of the
// Services they name, for egress rules. It reads a Secret's value (from the
// API server, uncached) only when the Secret's version changes, keeps only
// host and port, and remembers which Microservices rest on which Service,
// so a Service that comes, goes or changes its selector re-renders them.
type endpointResolver struct {
	// secrets reads Secret values; it must not be the cached client, which
	// would start an informer holding every Secret of the cluster.
	secrets client.Reader
	// services reads Services (the manager's cache holds all of them).
	services      client.Reader
	clusterDomain string

	mu    sync.Mutex
	hosts map[string]hostPort // namespace/name/key → host and port
	// users: Service namespace/name → the Microservices whose endpoints it
	// is (or would be, once it exists).
	users map[types.NamespacedName]map[types.NamespacedName]struct{}
	// uses is the reverse of users, to replace an owner's entries.
	uses map[types.NamespacedName][]types.NamespacedName
}

func newEndpointResolver(secrets, services client.Reader, clusterDomain string) *endpointResolver {
	return &endpointResolver{
		secrets: secrets, services: services, clusterDomain: clusterDomain,
		hosts: map[string]hostPort{},
		users: map[types.NamespacedName]map[types.NamespacedName]struct{}{},
		uses:  map[types.NamespacedName][]types.NamespacedName{},
	}
}

// resolve maps each URL to its endpoint. versions are the Secrets'
// versions from secretVersions ("absent" for a missing one).
func (e *endpointResolver) resolve(ctx context.Context, owner types.NamespacedName, urls []secretURL, versions map[string]string) ([]endpoint, error) {
	out := make([]endpoint, 0, len(urls))
	var services []types.NamespacedName
	for _, u := range urls {
		hp, err := e.hostOf(ctx, owner.Namespace, u.Ref, versions[u.Ref.Name])
		if err != nil {
			return nil, err
		}
		ep := endpoint{Role: u.Role, Host: hp.Host, Port: hp.Port}
		if hp.Err != "" {
			ep.Host, ep.Unmapped = "?", hp.Err
			out = append(out, ep)
			continue
		}
		key, ok := serviceOfHost(hp.Host, owner.Namespace, e.clusterDomain)
		if !ok {
			ep.Unmapped = "not a Service name of this cluster"
			out = append(out, ep)
			continue
		}
		services = append(services, key)
		svc := &corev1.Service{}
		switch err := e.services.Get(ctx, key, svc); {
		case apierrors.IsNotFound(err):
			ep.Unmapped = "no Service " + key.String()
		case err != nil:
			return nil, readFailed(fmt.Errorf("get Service %s: %w", key, err))
		default:
			ep.Pods, ep.Unmapped = servicePods(svc, hp.Port)
		}
		out = append(out, ep)
	}
	e.record(owner, services)
	return out, nil
}

// hostOf is the host and port of the URL in ref, read again only when the
// Secret's version differs from the one remembered.
func (e *endpointResolver) hostOf(ctx context.Context, namespace string, ref platformv1alpha1.SecretKeySelector, version string) (hostPort, error) {
	id := namespace + "/" + ref.Name + "/" + ref.Key
	e.mu.Lock()
	hp, ok := e.hosts[id]
	e.mu.Unlock()
	if ok && hp.Version == version && version != "" {
		return hp, nil
	}
	hp = hostPort{Version: version}
	s := &corev1.Secret{}
	switch err := e.secrets.Get(ctx, client.ObjectKey{Namespace: namespace, Name: ref.Name}, s); {
	case apierrors.IsNotFound(err):
		hp.Err = "Secret " + ref.Name + " not found"
	case err != nil:
		return hostPort{}, readFailed(fmt.Errorf("get Secret %s: %w", ref.Name, err))
	default:
		hp.Version = string(s.UID) + "/" + s.ResourceVersion
		raw, found := s.Data[ref.Key]
		if !found {
			hp.Err = "Secret " + ref.Name + " has no key " + ref.Key
			break
		}
		hp.Host, hp.Port, hp.Err = parseHostPort(string(raw))
		if hp.Err != "" {
			hp.Err = "Secret " + ref.Name + " key " + ref.Key + ": " + hp.Err
		}
	}
	e.mu.Lock()
	e.hosts[id] = hp
	e.mu.Unlock()
	return hp, nil
}

// parseHostPort reads host and port from a broker or database URL; the
// port defaults by scheme. The error never quotes the value: it may hold a
// password.
func parseHostPort(raw string) (string, int32, string) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || u.Host == "" {
		return "", 0, "not a URL with a host"
	}
	host := u.Hostname()
	if p := u.Port(); p != "" {
		n, err := strconv.ParseUint(p, 10, 16)
		if err != nil || n == 0 {
			return "", 0, "the URL's port is not a port number"
		}
		return host, int32(n), ""
	}
	switch u.Scheme {
	case "redis", "rediss":
		return host, 6379, ""
	case "postgres", "postgresql":
		return host, 5432, ""
	}
	return "", 0, "the URL has no port and its scheme " + strconv.Quote(u.Scheme) + " has no default"
}

// serviceOfHost is the Service a host name resolves to inside the cluster,
// the way a pod's resolver search path completes it: name (the pod's own
// namespace), name.namespace, name.namespace.svc, and each of those with the
// cluster domain. An IP address or any other name is not a Service.
func serviceOfHost(host, namespace, clusterDomain string) (types.NamespacedName, bool) {
	if net.ParseIP(host) != nil {
		return types.NamespacedName{}, false
	}
	h := strings.TrimSuffix(strings.ToLower(host), ".")
	h = strings.TrimSuffix(h, "."+clusterDomain)
	parts := strings.Split(h, ".")
	switch {
	case len(parts) == 1:
		return types.NamespacedName{Namespace: namespace, Name: parts[0]}, parts[0] != ""
	case len(parts) == 2 || len(parts) == 3 && parts[2] == "svc":
		return types.NamespacedName{Namespace: parts[1], Name: parts[0]}, parts[0] != "" && parts[1] != ""
	}
	return types.NamespacedName{}, false
}

// servicePods are the pods behind svc reached on the URL's port: the
// Service's selector, and the target port of the Service port the URL
// names. A Service without a selector (its endpoints are kept by hand, or
// it is an ExternalName) cannot be expressed as pods.
func servicePods(svc *corev1.Service, port int32) (*pods, string) {
	key := svc.Namespace + "/" + svc.Name
	if svc.Spec.Type == corev1.ServiceTypeExternalName {
		return nil, "Service " + key + " is an ExternalName"
	}
	if len(svc.Spec.Selector) == 0 {
		return nil, "Service " + key + " has no selector"
	}
	for _, p := range svc.Spec.Ports {
		if p.Port != port {
			continue
		}
		target := p.TargetPort
		if target.Type == intstr.Int && target.IntVal == 0 || target.Type == intstr.String && target.StrVal == "" {
			target = intstr.FromInt32(p.Port)
		}
		return &pods{Kind: "Service", Name: svc.Name, Namespace: svc.Namespace, Labels: svc.Spec.Selector,
			Ports: []netPort{{Port: target, Protocol: protocolOr(p.Protocol)}}}, ""
	}
	return nil, fmt.Sprintf("Service %s has no port %d", key, port)
}

// record remembers that owner's endpoints are the Services named.
func (e *endpointResolver) record(owner types.NamespacedName, services []types.NamespacedName) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, s := range e.uses[owner] {
		delete(e.users[s], owner)
		if len(e.users[s]) == 0 {
			delete(e.users, s)
		}
	}
	if len(services) == 0 {
		delete(e.uses, owner)
		return
	}
	e.uses[owner] = services
	for _, s := range services {
		if e.users[s] == nil {
			e.users[s] = map[types.NamespacedName]struct{}{}
		}
		e.users[s][owner] = struct{}{}
	}
}

// forget drops what is remembered of a deleted owner.
func (e *endpointResolver) forget(owner types.NamespacedName) { e.record(owner, nil) }

// usersOf maps a Service to the Microservices whose endpoints it is.
func (e *endpointResolver) usersOf(_ context.Context, o client.Object) []reconcile.Request {
	key := types.NamespacedName{Namespace: o.GetNamespace(), Name: o.GetName()}
	e.mu.Lock()
	defer e.mu.Unlock()
	reqs := make([]reconcile.Request, 0, len(e.users[key]))
	for owner := range e.users[key] {
		reqs = append(reqs, reconcile.Request{NamespacedName: owner})
	}
	return reqs
}
