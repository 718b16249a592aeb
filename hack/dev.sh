#!/usr/bin/env bash
# make dev: the whole stack on a kind cluster, in real pods.
#
#   hack/dev.sh        # cluster, images, operator, sample stack, a sample CV, the gateway on localhost
#   hack/dev.sh down   # deletes the cluster (make dev-down)
#
# The way in is the kind node's port mapping (127.0.0.1:$DEV_PORT → the
# NodePort of config/dev/gateway-nodeport.yaml): kube-proxy balances it over
# the gateway's ready pods, so it keeps answering across gateway rollouts. A
# cluster made before that mapping gets a port-forward that re-establishes
# itself instead.
#
# Settings: KIND_CLUSTER (skillmesh), DEV_NAMESPACE (default), DEV_PORT (8080),
# DEV_TIMEOUT seconds to wait for Ready (600).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
export KIND_CLUSTER=${KIND_CLUSTER:-skillmesh}
NS=${DEV_NAMESPACE:-default}
PORT=${DEV_PORT:-8080}
export KIND_HOST_PORT=$PORT
TIMEOUT=${DEV_TIMEOUT:-600}
IMG=${IMG:-skillmesh/operator:v0.1.0}
SERVICES_IMG=${SERVICES_IMG:-skillmesh/services:v0.1.0}
REDIS_IMG=${REDIS_IMG:-skillmesh/redis:7-bookworm}
STATE=${SKILLMESH_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/skillmesh}/dev/$KIND_CLUSTER
mkdir -p "$STATE"
eval "$(hack/kind/cluster.sh env)"
export PATH
KCTL=(kubectl --context "kind-$KIND_CLUSTER")

start=$SECONDS
step() { printf '\n\033[1m==> %s\033[0m (%ds)\n' "$*" $((SECONDS - start)); }

stop_port_forward() {
  if [ -f "$STATE/port-forward.pid" ]; then
    kill -- -"$(cat "$STATE/port-forward.pid")" 2>/dev/null || kill "$(cat "$STATE/port-forward.pid")" 2>/dev/null || true
    rm -f "$STATE/port-forward.pid"
  fi
}

if [ "${1:-}" = down ]; then
  stop_port_forward
  hack/kind/cluster.sh down
  exit 0
fi

step "kind cluster $KIND_CLUSTER"
hack/kind/cluster.sh up

step "images: the operator, the services, Redis"
make -s docker-build docker-build-services docker-build-redis \
  IMG="$IMG" SERVICES_IMG="$SERVICES_IMG" REDIS_IMG="$REDIS_IMG" >"$STATE/images.log" 2>&1 ||
  { tail -30 "$STATE/images.log" >&2; exit 1; }
# kind says "loading" for an image the node does not hold yet, or holds
# with other content under the same tag.
# (The whole output is read first: grep -q on a pipe would stop kind mid-load.)
loaded=$(kind load docker-image --name "$KIND_CLUSTER" "$IMG" "$SERVICES_IMG" "$REDIS_IMG" 2>&1) ||
  { echo "$loaded" >&2; exit 1; }
changed=false
if grep -q loading <<<"$loaded"; then
  changed=true
fi

step "CRDs and the operator (namespace skillmesh-system)"
make -s install deploy IMG="$IMG" >"$STATE/deploy.log" 2>&1 ||
  { tail -30 "$STATE/deploy.log" >&2; exit 1; }
if $changed; then
  # Same tags, new content: pods started from the old images roll.
  "${KCTL[@]}" -n skillmesh-system rollout restart deployment/skillmesh-controller-manager >/dev/null
  for sel in app.kubernetes.io/managed-by=skillmesh-operator app.kubernetes.io/part-of=skillmesh; do
    "${KCTL[@]}" -n "$NS" rollout restart deployment -l "$sel" >/dev/null 2>&1 || true
  done
fi
"${KCTL[@]}" -n skillmesh-system rollout status deployment/skillmesh-controller-manager --timeout=180s

step "a development key pair for the gateway's JWT auth (development only: hack/devtoken)"
# Kept in $STATE/jwt, so tokens printed by one make dev work in the next.
go build -o bin/devtoken ./hack/devtoken
mkdir -p "$STATE/jwt"
bin/devtoken jwks "$STATE/jwt" >"$STATE/jwt/jwks.json"
"${KCTL[@]}" -n "$NS" create secret generic gateway-jwks --from-file=jwks.json="$STATE/jwt/jwks.json" \
  --dry-run=client -o yaml | "${KCTL[@]}" apply -f - >/dev/null
TOKEN=$(bin/devtoken token "$STATE/jwt" ada 24h)
AUTH=(-H "Authorization: Bearer $TOKEN")
echo "  Secret gateway-jwks holds the public key; a token for user ada (24 h): $STATE/jwt/ada.token"
echo "$TOKEN" >"$STATE/jwt/ada.token"

step "the sample stack: Redis, skills, career, learning, the gateway"
"${KCTL[@]}" apply -n "$NS" -k config/samples
deadline=$((SECONDS + TIMEOUT))
while :; do
  line=$("${KCTL[@]}" -n "$NS" get microservices,gateways --no-headers \
    -o custom-columns='NAME:.metadata.name,READY:.status.conditions[?(@.type=="Ready")].status,REASON:.status.conditions[?(@.type=="Ready")].reason,PODS:.status.ready' 2>/dev/null |
    awk '{printf "%s %s(%s, %s)  ", $1, ($2 == "True" ? "✓" : "…"), $3, $4}')
  # A line each time something changes.
  if [ "$line" != "${last:-}" ]; then
    printf '  %s\n' "$line"
    last=$line
  fi
  notready=$("${KCTL[@]}" -n "$NS" get microservices,gateways \
    -o jsonpath='{range .items[*]}{.status.conditions[?(@.type=="Ready")].status}{"\n"}{end}' | grep -vc '^True$' || true)
  total=$("${KCTL[@]}" -n "$NS" get microservices,gateways --no-headers 2>/dev/null | wc -l)
  if [ "$total" -eq 4 ] && [ "$notready" -eq 0 ]; then
    break
  fi
  if [ $SECONDS -ge $deadline ]; then
    echo "not Ready after ${TIMEOUT}s:" >&2
    "${KCTL[@]}" -n "$NS" describe microservices,gateways >&2
    "${KCTL[@]}" -n "$NS" get pods -o wide >&2
    exit 1
  fi
  sleep 3
done
"${KCTL[@]}" -n "$NS" get microservices,gateways

step "the gateway on localhost:$PORT"
"${KCTL[@]}" apply -n "$NS" -f config/dev/gateway-nodeport.yaml >/dev/null
stop_port_forward
if hack/kind/cluster.sh mapped; then
  echo "  127.0.0.1:$PORT is the kind node's port 30080: the NodePort Service api-nodeport"
else
  # A port-forward follows one pod and ends with it: this loop starts it
  # again within a second, in its own process group for make dev-down.
  echo "  this cluster was made without the port mapping (make dev-down && make dev adds it): a self-restarting port-forward instead"
  setsid bash -c "while :; do ${KCTL[*]} -n $NS port-forward service/api $PORT:8080; sleep 0.5; done" \
    >"$STATE/port-forward.log" 2>&1 </dev/null &
  echo $! >"$STATE/port-forward.pid"
fi
# Ready pods reach kube-proxy's rules a moment later: wait until every route
# reaches its service.
for route in /api/skills /api/career /api/learning; do
  for _ in $(seq 1 60); do
    curl -fsS "localhost:$PORT$route/health/ready" >/dev/null 2>&1 && break
    sleep 1
  done
done

step "a sample CV for user ada, and a career plan"
curl -fsS "${AUTH[@]}" -X POST "localhost:$PORT/api/skills/users/ada/assess" -d '{
  "summary": "Backend engineer who enjoys Go and Kubernetes.",
  "experience": [{"title": "Senior Engineer", "company": "Acme", "years": 4,
                  "description": "Built golang microservices on k8s with PostgreSQL and Redis."}],
  "skills": ["Docker", "REST API design"],
  "education": [{"degree": "BSc", "field": "Computer Science", "institution": "TU Delft"}]}' |
  head -c 300
echo " …"
curl -fsS "${AUTH[@]}" -X POST "localhost:$PORT/api/career/users/ada/career-plan" -d '{"target_role": "backend-engineer"}' | head -c 300
echo " …"

step "learning's recommendations, from career.plan.updated through Redis; enrolling in the first (409 when a run before did)"
course=""
for _ in $(seq 1 60); do
  course=$(curl -fsS "${AUTH[@]}" "localhost:$PORT/api/learning/users/ada/recommendations" 2>/dev/null |
    grep -o '"courses":\[{"id":"[^"]*"' | head -1 | sed 's/.*"id":"//; s/"$//' || true)
  [ -n "$course" ] && break
  sleep 1
done
[ -n "$course" ] || { echo "learning has no recommendations for ada after 60 s" >&2; exit 1; }
curl -sS "${AUTH[@]}" -X POST "localhost:$PORT/api/learning/users/ada/enrollments" -d "{\"course_id\": \"$course\"}"
echo

step "the dashboard: without a token 401, with grace's 403, with ada's: skills, career and learning in parallel"
code=$(curl -sS -o /dev/null -w '%{http_code}' "localhost:$PORT/users/ada/dashboard")
echo "  no token: $code"
[ "$code" = 401 ] || { echo "the dashboard answered $code without a token, want 401" >&2; exit 1; }
code=$(curl -sS -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $(bin/devtoken token "$STATE/jwt" grace 5m)" "localhost:$PORT/users/ada/dashboard")
echo "  grace's token: $code"
[ "$code" = 403 ] || { echo "the dashboard answered $code to another user's token, want 403" >&2; exit 1; }
curl -fsS "${AUTH[@]}" -D "$STATE/headers" -o "$STATE/dashboard.json" "localhost:$PORT/users/ada/dashboard"
grep -i '^X-Skillmesh-Completed' "$STATE/headers"
grep -o '"\(total_skills\|gaps_remaining\|completion_percentage\)":[0-9]*' "$STATE/dashboard.json" | tr '\n' ' '
echo
head -c 400 "$STATE/dashboard.json"
echo " …"
cat <<DONE

Ready in $((SECONDS - start))s. The stack runs in the kind cluster $KIND_CLUSTER (kubectl context kind-$KIND_CLUSTER):
  kubectl get microservices,gateways
  TOKEN=$TOKEN
  (ada's token, 24 h; another: bin/devtoken token $STATE/jwt USER)
  curl -H "Authorization: Bearer \$TOKEN" localhost:$PORT/users/ada/dashboard
localhost:$PORT keeps answering across rollouts of the gateway; make dev-down removes it all.
DONE
