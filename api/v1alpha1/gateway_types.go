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

package v1alpha1

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// OnErrorPolicy says what an aggregation does when a backend fails.
// +kubebuilder:validation:Enum=partial;fail
type OnErrorPolicy string

const (
	// OnErrorPartial serves what did answer and lists the failures in _errors.
	OnErrorPartial OnErrorPolicy = "partial"
	// OnErrorFail answers 502/504 when any backend fails.
	OnErrorFail OnErrorPolicy = "fail"
)

// AuthPolicy says whether a route or aggregation needs a verified token.
// +kubebuilder:validation:Enum=required;none
type AuthPolicy string

const (
	// AuthRequired: a valid bearer token, or 401.
	AuthRequired AuthPolicy = "required"
	// AuthNone: anyone.
	AuthNone AuthPolicy = "none"
)

// GatewayAuth is how the gateway verifies who calls it.
type GatewayAuth struct {
	// jwt verifies bearer JSON Web Tokens.
	// +required
	JWT *JWTAuth `json:"jwt"`
}

// JWTAuth verifies a bearer JWT: signed (RS256, ES256, PS256, EdDSA and
// their larger sizes) by a key of the JWKS, issued by issuer, for one of the
// audiences, and not expired.
type JWTAuth struct {
	// issuer the token's iss claim must equal, e.g. https://auth.example.com.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=512
	Issuer string `json:"issuer"`

	// audiences: the token's aud claim must name at least one.
	// +required
	// +listType=set
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=16
	// +kubebuilder:validation:items:MinLength=1
	// +kubebuilder:validation:items:MaxLength=512
	Audiences []string `json:"audiences"`

	// jwksSecretRef names the key of a Secret holding the JSON Web Key Set
	// (public keys). It is mounted into the gateway's pods and reloaded when
	// it changes, so keys rotate without a restart.
	// +required
	JWKSSecretRef SecretKeySelector `json:"jwksSecretRef"`
}

// RateLimit is a token bucket per client address.
type RateLimit struct {
	// requestsPerSecond each client may make on average.
	// +required
	// +kubebuilder:validation:Minimum=1
	RequestsPerSecond int32 `json:"requestsPerSecond"`

	// burst is how many requests a client may make at once.
	// +required
	// +kubebuilder:validation:Minimum=1
	Burst int32 `json:"burst"`

	// trustedProxies are CIDRs (or addresses) of proxies in front of the
	// gateway, e.g. a load balancer: from them, the client is the last
	// address of X-Forwarded-For that is not a trusted proxy.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=32
	// +kubebuilder:validation:items:MaxLength=64
	// +kubebuilder:validation:items:XValidation:rule="isCIDR(self) || isIP(self)",message="a trusted proxy must be a CIDR such as 10.0.0.0/8 or an IP address"
	TrustedProxies []string `json:"trustedProxies,omitempty"`
}

// CORS lets browser apps on other origins call the gateway. The gateway
// answers preflights itself.
// +kubebuilder:validation:XValidation:rule="!(has(self.allowCredentials) && self.allowCredentials && self.allowOrigins.exists(o, o == '*'))",message="allowOrigins '*' cannot be used with allowCredentials: browsers refuse it; list the origins"
type CORS struct {
	// allowOrigins: exact origins (https://app.example.com), subdomain
	// wildcards (https://*.example.com) or "*".
	// +required
	// +listType=set
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=64
	// +kubebuilder:validation:items:MaxLength=256
	// +kubebuilder:validation:items:XValidation:rule="self == '*' || self.matches('^https?://([*][.])?[A-Za-z0-9.-]+(:[0-9]+)?$')",message="an origin is scheme://host[:port] with no path (the host may start with '*.'), or '*'"
	AllowOrigins []string `json:"allowOrigins"`

	// allowMethods other origins may use; default GET, HEAD, POST.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=16
	// +kubebuilder:validation:items:MaxLength=32
	// +kubebuilder:validation:items:Pattern=`^[A-Z]+$`
	AllowMethods []string `json:"allowMethods,omitempty"`

	// allowHeaders requests from other origins may carry, e.g.
	// Authorization, Content-Type; "*" for any (Authorization excepted with
	// allowCredentials).
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=64
	// +kubebuilder:validation:items:MaxLength=128
	// +kubebuilder:validation:items:Pattern=`^(\*|[A-Za-z0-9!#$%&'*+.^_|~-]+)$`
	AllowHeaders []string `json:"allowHeaders,omitempty"`

	// exposeHeaders scripts on other origins may read.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=64
	// +kubebuilder:validation:items:MaxLength=128
	// +kubebuilder:validation:items:Pattern=`^[A-Za-z0-9!#$%&'*+.^_|~-]+$`
	ExposeHeaders []string `json:"exposeHeaders,omitempty"`

	// allowCredentials lets browsers send cookies and Authorization.
	// +optional
	AllowCredentials bool `json:"allowCredentials,omitempty"`

	// maxAge is how long browsers may cache a preflight's answer, e.g. 10m.
	// +optional
	// +kubebuilder:validation:XValidation:rule="duration(self) >= duration('0s')",message="maxAge must not be negative"
	MaxAge *metav1.Duration `json:"maxAge,omitempty"`
}

// Expose says how traffic from outside the cluster reaches the gateway.
type Expose struct {
	// httpRoute renders a Gateway API HTTPRoute <name>
	// (gateway.networking.k8s.io/v1) to the gateway's Service, attached to
	// the parent Gateways named. Without the Gateway API CRDs in the cluster,
	// condition Exposed is False with reason GatewayAPINotInstalled.
	// +optional
	HTTPRoute *ExposeHTTPRoute `json:"httpRoute,omitempty"`

	// ingress renders a networking.k8s.io/v1 Ingress <name> to the
	// gateway's Service.
	// +optional
	Ingress *ExposeIngress `json:"ingress,omitempty"`
}

// ExposeHTTPRoute is the HTTPRoute in front of the gateway.
type ExposeHTTPRoute struct {
	// parentRefs are the Gateway API Gateways (or their listeners) the route
	// attaches to.
	// +required
	// +listType=atomic
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=32
	ParentRefs []ParentReference `json:"parentRefs"`

	// hostnames the route answers for, e.g. api.example.com; default those
	// of the listeners.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=16
	// +kubebuilder:validation:items:MaxLength=253
	// +kubebuilder:validation:items:Pattern=`^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`
	Hostnames []string `json:"hostnames,omitempty"`
}

// ParentReference names a Gateway API Gateway (or listener), as the Gateway
// API's own ParentReference does.
type ParentReference struct {
	// group of the parent; default gateway.networking.k8s.io.
	// +optional
	// +kubebuilder:validation:MaxLength=253
	Group string `json:"group,omitempty"`
	// kind of the parent; default Gateway.
	// +optional
	// +kubebuilder:validation:MaxLength=63
	Kind string `json:"kind,omitempty"`
	// namespace of the parent; default the Gateway's.
	// +optional
	// +kubebuilder:validation:MaxLength=63
	Namespace string `json:"namespace,omitempty"`
	// name of the parent.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name"`
	// sectionName is a listener of the parent.
	// +optional
	// +kubebuilder:validation:MaxLength=253
	SectionName string `json:"sectionName,omitempty"`
	// port of the parent's listener.
	// +optional
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=65535
	Port *int32 `json:"port,omitempty"`
}

// ExposeIngress is the Ingress in front of the gateway.
// +kubebuilder:validation:XValidation:rule="!has(self.tlsSecretName) || has(self.host)",message="tlsSecretName needs a host: TLS is for a host name"
type ExposeIngress struct {
	// className is the IngressClass, e.g. nginx; default the cluster's
	// default class.
	// +optional
	// +kubebuilder:validation:MaxLength=253
	ClassName string `json:"className,omitempty"`

	// host the Ingress answers for, e.g. api.example.com; default every host.
	// +optional
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:XValidation:rule="self.matches('^([*][.])?[a-z0-9]([-a-z0-9]*[a-z0-9])?([.][a-z0-9]([-a-z0-9]*[a-z0-9])?)*$')",message="host must be a DNS name such as api.example.com (a leading '*.' is allowed)"
	Host string `json:"host,omitempty"`

	// tlsSecretName is a kubernetes.io/tls Secret the ingress controller
	// terminates TLS with, for host.
	// +optional
	// +kubebuilder:validation:MaxLength=253
	TLSSecretName string `json:"tlsSecretName,omitempty"`
}

// GatewayTLS names the serving certificate.
type GatewayTLS struct {
	// secretName is a kubernetes.io/tls Secret (tls.crt, tls.key) of the
	// Gateway's namespace.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	SecretName string `json:"secretName"`
}

// GatewaySpec is what the API gateway should serve.
// +kubebuilder:validation:XValidation:rule="!has(self.volumeMounts) || self.volumeMounts.all(m, !(m.mountPath in ['/etc/skillmesh/gateway', '/etc/skillmesh/gateway/', '/etc/skillmesh/jwks', '/etc/skillmesh/tls']))",message="mountPaths /etc/skillmesh/gateway, /etc/skillmesh/jwks and /etc/skillmesh/tls hold the routes file, the JWKS and the certificate and cannot be shadowed"
// +kubebuilder:validation:XValidation:rule="has(self.auth) || ((!has(self.routes) || self.routes.all(r, !has(r.auth) || r.auth != 'required')) && (!has(self.aggregations) || self.aggregations.all(a, !has(a.auth) || a.auth != 'required')))",message="auth: required on a route or aggregation needs spec.auth.jwt to verify tokens with"
type GatewaySpec struct {
	// replicas is the number of gateway pods, unless autoscaling is set.
	// +optional
	// +kubebuilder:default=1
	// +kubebuilder:validation:Minimum=0
	Replicas *int32 `json:"replicas,omitempty"`

	// image overrides the bundled gateway image.
	// +optional
	// +kubebuilder:validation:MaxLength=512
	Image string `json:"image,omitempty"`

	// port the gateway listens on.
	// +optional
	// +kubebuilder:default=8080
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=65535
	Port int32 `json:"port,omitempty"`

	// serviceType of the gateway's Service.
	// +optional
	// +kubebuilder:default=ClusterIP
	// +kubebuilder:validation:Enum=ClusterIP;NodePort;LoadBalancer
	ServiceType corev1.ServiceType `json:"serviceType,omitempty"`

	// routes proxy a path prefix to a Microservice.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=128
	// +kubebuilder:validation:XValidation:rule="self.all(r, self.exists_one(o, o.pathPrefix == r.pathPrefix))",message="each route's pathPrefix must be unique"
	Routes []Route `json:"routes,omitempty"`

	// aggregations fan one request out to several Microservices in parallel
	// and merge the answers.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=64
	// +kubebuilder:validation:XValidation:rule="self.all(a, self.exists_one(o, o.path == a.path))",message="each aggregation's path must be unique"
	Aggregations []Aggregation `json:"aggregations,omitempty"`

	// auth verifies bearer tokens. With it, routes and aggregations need a
	// valid token unless they say auth: none.
	// +optional
	Auth *GatewayAuth `json:"auth,omitempty"`

	// rateLimit bounds each client's requests (429 with Retry-After).
	// +optional
	RateLimit *RateLimit `json:"rateLimit,omitempty"`

	// cors lets browser apps on other origins call the gateway.
	// +optional
	CORS *CORS `json:"cors,omitempty"`

	// expose makes the gateway reachable from outside the cluster through
	// the cluster's ingress.
	// +optional
	Expose *Expose `json:"expose,omitempty"`

	// tls makes the gateway serve HTTPS itself (HTTP/2 and HTTP/1.1, TLS 1.2
	// or later) with the certificate of a kubernetes.io/tls Secret, read
	// again when it rotates (cert-manager renewing it), without a restart.
	// +optional
	TLS *GatewayTLS `json:"tls,omitempty"`

	// maxRequestBodyBytes bounds a request body: a larger one is answered
	// 413 before anything is forwarded.
	// +optional
	// +kubebuilder:default=1048576
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=1073741824
	MaxRequestBodyBytes *int64 `json:"maxRequestBodyBytes,omitempty"`

	// resources are the gateway container's requests and limits.
	// +optional
	Resources corev1.ResourceRequirements `json:"resources,omitempty"`

	// autoscaling adds a HorizontalPodAutoscaler.
	// +optional
	Autoscaling *Autoscaling `json:"autoscaling,omitempty"`

	// disruptionBudget adds a PodDisruptionBudget. Without it, one with
	// minAvailable 1 is made whenever more than one replica runs.
	// +optional
	DisruptionBudget *DisruptionBudget `json:"disruptionBudget,omitempty"`

	// networkPolicy shapes the NetworkPolicy <name>: the gateway is the
	// entry point, so every caller may reach its port unless allowFrom
	// narrows it; its egress is DNS and the Microservices it routes and
	// aggregates to. On by default.
	// +optional
	NetworkPolicy *NetworkPolicy `json:"networkPolicy,omitempty"`

	// PodOptions: command, env, serviceAccountName, imagePullSecrets,
	// imagePullPolicy, placement, podMetadata, volumes and volumeMounts.
	PodOptions `json:",inline"`
}

// RouteRetries is a route's retry policy.
type RouteRetries struct {
	// attempts is the number of tries in all, the first included.
	// +required
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=10
	Attempts int32 `json:"attempts"`

	// perTryTimeout bounds each try, e.g. 500ms; default the route's timeout.
	// +optional
	// +kubebuilder:validation:XValidation:rule="duration(self) > duration('0s')",message="perTryTimeout must be a positive duration such as 500ms"
	PerTryTimeout *metav1.Duration `json:"perTryTimeout,omitempty"`
}

// HeaderModifier sets and removes HTTP headers.
type HeaderModifier struct {
	// set replaces each header with the value given.
	// +optional
	// +kubebuilder:validation:MaxProperties=32
	// +kubebuilder:validation:XValidation:rule="self.all(k, k.matches('^[A-Za-z0-9!#$%&*+.^_|~-]+$'))",message="header names are tokens (letters, digits and !#$%&*+.^_|~-)"
	Set map[string]string `json:"set,omitempty"`

	// remove deletes each header named.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=32
	// +kubebuilder:validation:items:MaxLength=128
	// +kubebuilder:validation:items:Pattern=`^[A-Za-z0-9!#$%&'*+.^_|~-]+$`
	Remove []string `json:"remove,omitempty"`
}

// Route proxies every request under pathPrefix to a Microservice.
// +kubebuilder:validation:XValidation:rule="!(has(self.replacePrefix) && has(self.stripPrefix) && self.stripPrefix)",message="set stripPrefix or replacePrefix, not both"
// +kubebuilder:validation:XValidation:rule="!has(self.retries) || !has(self.retries.perTryTimeout) || duration(self.retries.perTryTimeout) <= (has(self.timeout) ? duration(self.timeout) : duration('30s'))",message="retries.perTryTimeout must be at most the route's timeout (default 30s)"
type Route struct {
	// pathPrefix is matched against the request path, e.g. /api/skills. It
	// may hold {parameters} as whole segments, e.g.
	// /api/skills/users/{user_id}, to check the token's user against one.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=256
	// +kubebuilder:validation:XValidation:rule="self.startsWith('/')",message="a route's pathPrefix must start with '/'"
	PathPrefix string `json:"pathPrefix"`

	// service is the name of a Microservice in the Gateway's namespace.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:XValidation:rule="self.matches('^[a-z]([-a-z0-9]*[a-z0-9])?$')",message="a route's service must be the name of a Microservice (a DNS-1035 label)"
	Service string `json:"service"`

	// port overrides the Microservice's port.
	// +optional
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=65535
	Port *int32 `json:"port,omitempty"`

	// stripPrefix removes pathPrefix (up to its first {parameter}) before
	// the request is forwarded.
	// +optional
	StripPrefix bool `json:"stripPrefix,omitempty"`

	// replacePrefix replaces pathPrefix (up to its first {parameter}) before
	// the request is forwarded: /api/skills/users/{user_id} with
	// replacePrefix /users forwards /api/skills/users/ada/skills as
	// /users/ada/skills.
	// +optional
	// +kubebuilder:validation:MaxLength=256
	// +kubebuilder:validation:XValidation:rule="self.startsWith('/') && !self.contains('{')",message="replacePrefix must be a path starting with '/', without {parameters}"
	ReplacePrefix string `json:"replacePrefix,omitempty"`

	// auth is required (a valid token) or none; default required when
	// spec.auth is set, none otherwise.
	// +optional
	Auth AuthPolicy `json:"auth,omitempty"`

	// userClaim names the token claim that must equal the path's {user_id}
	// (403 otherwise); default sub.
	// +optional
	// +kubebuilder:validation:MaxLength=128
	UserClaim string `json:"userClaim,omitempty"`

	// retries tries a GET or HEAD again when a try fails or answers 502,
	// 503 or 504, never past timeout. Other methods are sent once.
	// +optional
	Retries *RouteRetries `json:"retries,omitempty"`

	// requestHeaders change the headers the Microservice receives.
	// +optional
	RequestHeaders *HeaderModifier `json:"requestHeaders,omitempty"`

	// responseHeaders change the headers the client receives.
	// +optional
	ResponseHeaders *HeaderModifier `json:"responseHeaders,omitempty"`

	// timeout bounds the whole proxied request, e.g. 5s.
	// +optional
	// +kubebuilder:validation:XValidation:rule="duration(self) > duration('0s')",message="a route's timeout must be a positive duration such as 5s"
	Timeout *metav1.Duration `json:"timeout,omitempty"`
}

// Aggregation answers one path by calling several backends in parallel and
// merging their JSON into one object, keyed by each backend's key.
// +kubebuilder:validation:XValidation:rule="self.backends.all(b, self.backends.exists_one(o, o.key == b.key))",message="each backend key of an aggregation must be unique"
// +kubebuilder:validation:XValidation:rule="self.backends.all(b, !has(b.timeout) || duration(b.timeout) <= (has(self.timeout) ? duration(self.timeout) : duration('2s')))",message="a backend's timeout must be at most its aggregation's (default 2s)"
type Aggregation struct {
	// path with {parameters}, e.g. /users/{user_id}/dashboard.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=256
	// +kubebuilder:validation:XValidation:rule="self.startsWith('/')",message="an aggregation's path must start with '/'"
	Path string `json:"path"`

	// backends are called concurrently.
	// +required
	// +listType=atomic
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=16
	Backends []AggregationBackend `json:"backends"`

	// timeout bounds the whole aggregation; a backend still running then is
	// reported as an error.
	// +optional
	// +kubebuilder:validation:XValidation:rule="duration(self) > duration('0s')",message="an aggregation's timeout must be a positive duration such as 2s"
	Timeout *metav1.Duration `json:"timeout,omitempty"`

	// onError is partial (serve what answered, list failures in _errors) or
	// fail (any failure is a 502/504).
	// +optional
	// +kubebuilder:default=partial
	OnError OnErrorPolicy `json:"onError,omitempty"`

	// compute adds fields computed by CEL expressions over the merged answer,
	// e.g. total_skills: "size(skills.skills)".
	// +optional
	// +kubebuilder:validation:MaxProperties=32
	Compute map[string]string `json:"compute,omitempty"`

	// auth is required (a valid token) or none; default required when
	// spec.auth is set, none otherwise.
	// +optional
	Auth AuthPolicy `json:"auth,omitempty"`

	// userClaim names the token claim that must equal the path's {user_id}
	// (403 otherwise); default sub.
	// +optional
	// +kubebuilder:validation:MaxLength=128
	UserClaim string `json:"userClaim,omitempty"`

	// forwardHeaders are copied from the incoming request to every backend;
	// default Authorization, Accept-Language, traceparent, tracestate. The
	// request ID, the verified subject and the query string always go.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=32
	// +kubebuilder:validation:items:MaxLength=128
	// +kubebuilder:validation:items:Pattern=`^[A-Za-z0-9!#$%&'*+.^_|~-]+$`
	ForwardHeaders []string `json:"forwardHeaders,omitempty"`
}

// AggregationBackend is one call of an aggregation.
type AggregationBackend struct {
	// timeout bounds this backend's call, at most the aggregation's; default
	// the aggregation's.
	// +optional
	// +kubebuilder:validation:XValidation:rule="duration(self) > duration('0s')",message="a backend's timeout must be a positive duration such as 500ms"
	Timeout *metav1.Duration `json:"timeout,omitempty"`

	// key under which the backend's answer appears in the merged object.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:XValidation:rule="self.matches('^[A-Za-z_][A-Za-z0-9_]*$')",message="a backend key must be an identifier (letters, digits and '_') so CEL expressions can name it"
	Key string `json:"key"`

	// service is the name of a Microservice in the Gateway's namespace.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:XValidation:rule="self.matches('^[a-z]([-a-z0-9]*[a-z0-9])?$')",message="a backend's service must be the name of a Microservice (a DNS-1035 label)"
	Service string `json:"service"`

	// path on the backend, with the aggregation's {parameters} substituted.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=256
	// +kubebuilder:validation:XValidation:rule="self.startsWith('/')",message="a backend's path must start with '/'"
	Path string `json:"path"`

	// coalesce lets calls to this backend that are in flight at the same
	// time, with the same URL and the same forwarded headers (the caller's
	// token and verified subject among them), share one answer: a burst of
	// identical dashboards costs the backend one call. Default true; set
	// false for a backend whose GET is not a pure read.
	// +optional
	// +kubebuilder:default=true
	Coalesce *bool `json:"coalesce,omitempty"`
}

// BackendStatus reports one Microservice a Gateway sends traffic to.
type BackendStatus struct {
	// service is the Microservice's name.
	Service string `json:"service"`
	// url the gateway reaches it at.
	// +optional
	URL string `json:"url,omitempty"`
	// ready is true when the Microservice exists, is Ready and has a ready pod
	// (one scaled to zero serves nobody).
	Ready bool `json:"ready"`
}

// GatewayStatus is what the operator observed.
type GatewayStatus struct {
	// observedGeneration is the generation the status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// conditions: Ready, Reconciling, Stalled, Available, Progressing,
	// Degraded, BackendsReady, ConfigValid and NetworkPolicyReady.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// url is the gateway's in-cluster address.
	// +optional
	URL string `json:"url,omitempty"`

	// replicas is the number of gateway pods.
	// +optional
	Replicas int32 `json:"replicas,omitempty"`

	// readyReplicas is the number of gateway pods that are ready.
	// +optional
	ReadyReplicas int32 `json:"readyReplicas,omitempty"`

	// ready is readyReplicas/desired replicas, as kubectl shows it.
	// +optional
	Ready string `json:"ready,omitempty"`

	// backends has one entry per Microservice the routes and aggregations name.
	// +optional
	// +listType=map
	// +listMapKey=service
	Backends []BackendStatus `json:"backends,omitempty"`
}

// Gateway runs the bundled API gateway in front of Microservices: routes
// proxy a prefix to one service, aggregations fan out to several.
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=smgw,categories=skillmesh
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.ready`
// +kubebuilder:printcolumn:name="URL",type=string,JSONPath=`.status.url`
// +kubebuilder:printcolumn:name="Reason",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].reason`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type Gateway struct {
	metav1.TypeMeta `json:",inline"`

	// +optional
	metav1.ObjectMeta `json:"metadata,omitzero"`

	// +required
	Spec GatewaySpec `json:"spec"`

	// status starts at observedGeneration -1: see Microservice.
	// +optional
	// +kubebuilder:default={"observedGeneration":-1}
	Status GatewayStatus `json:"status,omitzero"`
}

// +kubebuilder:object:root=true

// GatewayList is a list of Gateways.
type GatewayList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitzero"`
	Items           []Gateway `json:"items"`
}

func init() {
	SchemeBuilder.Register(func(s *runtime.Scheme) error {
		s.AddKnownTypes(SchemeGroupVersion, &Gateway{}, &GatewayList{})
		return nil
	})
}
