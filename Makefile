# Image URL to use all building/pushing image targets. A non-latest tag keeps
# imagePullPolicy IfNotPresent, so images loaded into kind are used offline.
IMG ?= skillmesh/operator:v0.1.0

# Get the currently used golang install path (in GOPATH/bin, unless GOBIN is set)
ifeq (,$(shell go env GOBIN))
GOBIN=$(shell go env GOPATH)/bin
else
GOBIN=$(shell go env GOBIN)
endif

# CONTAINER_TOOL defines the container tool to be used for building images.
# Be aware that the target commands are only tested with Docker which is
# scaffolded by default. However, you might want to replace it to use other
# tools. (i.e. podman)
CONTAINER_TOOL ?= docker

# Setting SHELL to bash allows bash commands to be executed by recipes.
# Options are set to exit when a recipe line exits non-zero or a piped command fails.
SHELL = /usr/bin/env bash -o pipefail
.SHELLFLAGS = -ec

.PHONY: all
all: build

##@ General

# The help target prints out all targets with their descriptions organized
# beneath their categories. The categories are represented by '##@' and the
# target descriptions by '##'. The awk command is responsible for reading the
# entire set of makefiles included in this invocation, looking for lines of the
# file as xyz: ## something, and then pretty-format the target and help. Then,
# if there's a line with ##@ something, that gets pretty-printed as a category.
# More info on the usage of ANSI control characters for terminal formatting:
# https://en.wikipedia.org/wiki/ANSI_escape_code#SGR_parameters
# More info on the awk command:
# http://linuxcommand.org/lc3_adv_awk.php

.PHONY: help
help: ## Display this help.
	@awk 'BEGIN {FS = ":.*##"; printf "\nUsage:\n  make \033[36m<target>\033[0m\n"} /^[a-zA-Z_0-9-]+:.*?##/ { printf "  \033[36m%-15s\033[0m %s\n", $$1, $$2 } /^##@/ { printf "\n\033[1m%s\033[0m\n", substr($$0, 5) } ' $(MAKEFILE_LIST)

##@ Development

.PHONY: manifests
manifests: controller-gen ## Generate WebhookConfiguration, ClusterRole and CustomResourceDefinition objects.
	"$(CONTROLLER_GEN)" rbac:roleName=manager-role crd paths="./api/...;./controllers/..." output:crd:artifacts:config=config/crd/bases

.PHONY: generate
generate: controller-gen ## Generate code containing DeepCopy, DeepCopyInto, and DeepCopyObject method implementations.
	"$(CONTROLLER_GEN)" object:headerFile="hack/boilerplate.go.txt" paths="./api/..."

.PHONY: fmt
fmt: ## Run go fmt against code.
	go fmt ./...

.PHONY: vet
vet: ## Run go vet against code.
	go vet ./...

.PHONY: test
test: manifests generate fmt vet envtest ## Run unit and envtest suites (kube-apiserver and etcd from setup-envtest, or built offline) and the service tests (redis-server and PostgreSQL installed from Debian when missing, as root).
	hack/test-deps.sh
	KUBEBUILDER_ASSETS="$$(ENVTEST_K8S_VERSION=$(ENVTEST_K8S_VERSION) SETUP_ENVTEST="$(ENVTEST)" hack/envtest-assets.sh)" \
		go test $$(go list ./... | grep -v /test/e2e) -coverprofile cover.out

.PHONY: verify-generated
verify-generated: manifests generate ## Fail when generated files (CRDs, RBAC, deepcopy) are stale.
	@git diff --exit-code -- api config || { echo "Generated files are stale: run 'make manifests generate' and commit the result." >&2; exit 1; }
	@untracked="$$(git ls-files --others --exclude-standard -- api config)"; \
		[ -z "$$untracked" ] || { echo "Generated files are not committed: $$untracked" >&2; exit 1; }

# The e2e suite runs on a kind cluster of its own, made by hack/kind/cluster.sh
# (kind's node image where a registry answers, else one built offline), with
# the images built from this checkout and loaded into it.
KIND_E2E_CLUSTER ?= skillmesh-e2e

.PHONY: setup-test-e2e
setup-test-e2e: ## Create (or reuse) the kind cluster of the e2e suite.
	KIND_CLUSTER=$(KIND_E2E_CLUSTER) hack/kind/cluster.sh up

.PHONY: test-e2e
test-e2e: setup-test-e2e manifests generate fmt vet kustomize kube-score ## Run the e2e suite on kind (real pods, probes, DNS, NetworkPolicy, garbage collector), then delete the cluster.
	eval "$$(hack/kind/cluster.sh env)"; export PATH; \
	KIND_CLUSTER=$(KIND_E2E_CLUSTER) KUBE_SCORE="$(KUBE_SCORE)" go test -tags=e2e ./test/e2e/ -v -ginkgo.v -timeout 40m; rc=$$?; \
	$(MAKE) cleanup-test-e2e; exit $$rc

.PHONY: cleanup-test-e2e
cleanup-test-e2e: ## Delete the e2e suite's kind cluster.
	KIND_CLUSTER=$(KIND_E2E_CLUSTER) hack/kind/cluster.sh down

##@ KWOK (simulated nodes and pods on the real control plane)

KWOK_CLUSTER_SH := hack/kwok/cluster.sh
# BENCH_OPERATOR_ARGS passes flags to bench/operator, e.g. BENCH_OPERATOR_ARGS=-quick (N=100 only).
BENCH_OPERATOR_ARGS ?=

.PHONY: kwok-up
kwok-up: ## Bring up the KWOK cluster (kwokctl, binary runtime; kubeconfig under ~/.cache/skillmesh/kwok) with a fake node and the CRDs.
	$(KWOK_CLUSTER_SH) up

.PHONY: kwok-down
kwok-down: ## Delete the KWOK cluster.
	$(KWOK_CLUSTER_SH) down

.PHONY: test-kwok
test-kwok: manifests kustomize ## Run the KWOK suite (test/kwok): the real operator on a KWOK cluster, brought up if needed and down after.
	@was_up=; $(KWOK_CLUSTER_SH) status && was_up=1; \
	kubeconfig=$$($(KWOK_CLUSTER_SH) up); rc=0; \
	SKILLMESH_KWOK_KUBECONFIG=$$kubeconfig go test -tags=kwok ./test/kwok/ -count=1 -timeout 10m -v -ginkgo.v || rc=$$?; \
	[ -n "$$was_up" ] || $(KWOK_CLUSTER_SH) down; exit $$rc

.PHONY: bench-operator
bench-operator: manifests ## Benchmark the operator at N=100 and N=1000 Microservices on the KWOK cluster (BENCH_OPERATOR_ARGS=-quick: N=100 only).
	go build -o bin/manager ./cmd
	go build -o bin/bench-operator ./bench/operator
	@was_up=; $(KWOK_CLUSTER_SH) status && was_up=1; \
	kubeconfig=$$($(KWOK_CLUSTER_SH) up); rc=0; \
	bin/bench-operator -kubeconfig "$$kubeconfig" -manager bin/manager $(BENCH_OPERATOR_ARGS) || rc=$$?; \
	[ -n "$$was_up" ] || $(KWOK_CLUSTER_SH) down; exit $$rc

.PHONY: bench-gateway
bench-gateway: ## Gateway against direct and nginx on pinned cores (16/64/256 conns, 2 cores, edge on), aggregations, large bodies: prints every table (~16 min).
	go run ./bench/gateway

.PHONY: bench-events
bench-events: ## Event latency (skills.assessed to career plan) and 10,000 assessments end to end with a loss check (prints a table).
	go run ./bench/events

.PHONY: lint
lint: golangci-lint ## Run golangci-lint linter
	"$(GOLANGCI_LINT)" run

.PHONY: lint-fix
lint-fix: golangci-lint ## Run golangci-lint linter and perform fixes
	"$(GOLANGCI_LINT)" run --fix

.PHONY: lint-config
lint-config: golangci-lint ## Verify golangci-lint linter configuration
	"$(GOLANGCI_LINT)" config verify

##@ Build

.PHONY: build
build: manifests generate fmt vet ## Build manager binary.
	go build -o bin/manager ./cmd

.PHONY: dev
dev: manifests kustomize ## The main job: a kind cluster with the operator and the whole stack in real pods, and a dashboard that answers.
	hack/dev.sh

.PHONY: dev-down
dev-down: ## Remove what make dev made: the port-forward, the kind cluster, and the dockerd it started.
	hack/dev.sh down

.PHONY: run
run: manifests generate fmt vet ## Run a controller from your host.
	go run ./cmd

# The images are built from static binaries compiled here first (no builder
# image to pull), with plain Dockerfile syntax so the legacy builder works.
# RUNTIME_IMAGE=gcr.io/distroless/static:nonroot adds CA roots where a
# registry answers; the default, scratch, needs none.
comma := ,
GOARCH ?= $(shell go env GOARCH)
IMAGE_BIN := bin/image
RUNTIME_IMAGE ?=
DOCKER_BUILD_ARGS = $(if $(RUNTIME_IMAGE),--build-arg RUNTIME_IMAGE=$(RUNTIME_IMAGE))

.PHONY: image-binaries
image-binaries: ## Build the static linux binaries the images are made of into bin/image/.
	CGO_ENABLED=0 GOOS=linux GOARCH=$(GOARCH) go build -trimpath -ldflags="-s -w" -o $(IMAGE_BIN)/manager ./cmd
	CGO_ENABLED=0 GOOS=linux GOARCH=$(GOARCH) go build -trimpath -ldflags="-s -w" -o $(IMAGE_BIN)/skillmesh-svc ./services/cmd/skillmesh-svc

.PHONY: docker-build
docker-build: image-binaries ## Build docker image with the manager.
	$(CONTAINER_TOOL) build $(DOCKER_BUILD_ARGS) -t ${IMG} .

SERVICES_IMG ?= skillmesh/services:v0.1.0

.PHONY: docker-build-services
docker-build-services: image-binaries ## Build the image of the bundled services (one binary, the first argument picks the service).
	$(CONTAINER_TOOL) build $(DOCKER_BUILD_ARGS) --target services -t ${SERVICES_IMG} .

REDIS_IMG ?= skillmesh/redis:7-bookworm

.PHONY: docker-build-redis
docker-build-redis: ## Build the sample broker's image from Debian's redis-server (where no registry answers).
	hack/kind/redis-image.sh $(REDIS_IMG)

POSTGRES_IMG ?= skillmesh/postgres:15-bookworm

.PHONY: docker-build-postgres
docker-build-postgres: ## Build a PostgreSQL server image from Debian's postgresql-15 (where no registry answers), for the e2e suite.
	hack/kind/postgres-image.sh $(POSTGRES_IMG)

.PHONY: build-services
build-services: ## Build the services binary into bin/skillmesh-svc.
	go build -o bin/skillmesh-svc ./services/cmd/skillmesh-svc

.PHONY: docker-push
docker-push: ## Push docker image with the manager.
	$(CONTAINER_TOOL) push ${IMG}

# PLATFORMS defines the target platforms for the manager image be built to provide support to multiple
# architectures. (i.e. make docker-buildx IMG=myregistry/mypoperator:0.0.1). To use this option you need to:
# - be able to use docker buildx. More info: https://docs.docker.com/build/buildx/
# - have enabled BuildKit. More info: https://docs.docker.com/develop/develop-images/build_enhancements/
# - be able to push the image to your registry (i.e. if you do not set a valid value via IMG=<myregistry/image:<tag>> then the export will fail)
# To adequately provide solutions that are compatible with multiple platforms, you should consider using this option.
PLATFORMS ?= linux/arm64,linux/amd64,linux/s390x,linux/ppc64le
.PHONY: docker-buildx
docker-buildx: ## Build and push docker image for the manager for cross-platform support
	for p in $(subst $(comma), ,$(PLATFORMS)); do \
	  os=$${p%/*}; arch=$${p#*/}; \
	  CGO_ENABLED=0 GOOS=$$os GOARCH=$$arch go build -trimpath -ldflags="-s -w" -o $(IMAGE_BIN)/$$arch/manager ./cmd || exit 1; \
	done
	- $(CONTAINER_TOOL) buildx create --name skillmesh-builder
	$(CONTAINER_TOOL) buildx use skillmesh-builder
	- $(CONTAINER_TOOL) buildx build --push --platform=$(PLATFORMS) $(DOCKER_BUILD_ARGS) --tag ${IMG} .
	- $(CONTAINER_TOOL) buildx rm skillmesh-builder

.PHONY: build-installer
build-installer: manifests generate kustomize ## Generate a consolidated YAML with CRDs and deployment.
	mkdir -p dist
	cd config/manager && "$(KUSTOMIZE)" edit set image controller=${IMG}
	"$(KUSTOMIZE)" build config/default > dist/install.yaml

##@ Deployment

ifndef ignore-not-found
  ignore-not-found = false
endif

.PHONY: install
install: manifests kustomize ## Install CRDs into the K8s cluster specified in ~/.kube/config.
	@out="$$( "$(KUSTOMIZE)" build config/crd 2>/dev/null || true )"; \
	if [ -n "$$out" ]; then echo "$$out" | $(KUBECTL) apply -f -; else echo "No CRDs to install; skipping."; fi

.PHONY: uninstall
uninstall: manifests kustomize ## Uninstall CRDs from the K8s cluster specified in ~/.kube/config. Call with ignore-not-found=true to ignore resource not found errors during deletion.
	@out="$$( "$(KUSTOMIZE)" build config/crd 2>/dev/null || true )"; \
	if [ -n "$$out" ]; then echo "$$out" | $(KUBECTL) delete --ignore-not-found=$(ignore-not-found) -f -; else echo "No CRDs to delete; skipping."; fi

.PHONY: deploy
deploy: manifests kustomize ## Deploy controller to the K8s cluster specified in ~/.kube/config.
	cd config/manager && "$(KUSTOMIZE)" edit set image controller=${IMG}
	"$(KUSTOMIZE)" build config/default | $(KUBECTL) apply -f -

.PHONY: undeploy
undeploy: kustomize ## Undeploy controller from the K8s cluster specified in ~/.kube/config. Call with ignore-not-found=true to ignore resource not found errors during deletion.
	"$(KUSTOMIZE)" build config/default | $(KUBECTL) delete --ignore-not-found=$(ignore-not-found) -f -

##@ Dependencies

## Location to install dependencies to
LOCALBIN ?= $(shell pwd)/bin
$(LOCALBIN):
	mkdir -p "$(LOCALBIN)"

## Tool Binaries
KUBECTL ?= kubectl
KIND ?= kind
KUSTOMIZE ?= $(LOCALBIN)/kustomize
CONTROLLER_GEN ?= $(LOCALBIN)/controller-gen
ENVTEST ?= $(LOCALBIN)/setup-envtest
GOLANGCI_LINT = $(LOCALBIN)/golangci-lint
KUBE_SCORE ?= $(LOCALBIN)/kube-score

## Tool Versions
KUSTOMIZE_VERSION ?= v5.8.1
CONTROLLER_TOOLS_VERSION ?= v0.23.0

#ENVTEST_VERSION is setup-envtest's own module version; it is tagged apart from
#controller-runtime and v0.25.1 is the newest tag of the v0.25 line.
ENVTEST_VERSION ?= v0.25.1

#ENVTEST_K8S_VERSION is the Kubernetes release matching k8s.io/api (v0.37.2 -> 1.37.2);
#hack/kube/go.mod builds the same release when it cannot be downloaded.
ENVTEST_K8S_VERSION ?= $(shell v='$(call gomodver,k8s.io/api)'; \
  [ -n "$$v" ] || { echo "Set ENVTEST_K8S_VERSION manually (k8s.io/api replace has no tag)" >&2; exit 1; }; \
  printf '%s\n' "$$v" | sed -E 's/^v?0\.([0-9]+)\.([0-9]+).*/1.\1.\2/')

GOLANGCI_LINT_VERSION ?= v2.15.0
KUBE_SCORE_VERSION ?= v1.20.0
.PHONY: kustomize
kustomize: $(KUSTOMIZE) ## Download kustomize locally if necessary.
$(KUSTOMIZE): $(LOCALBIN)
	$(call go-install-tool,$(KUSTOMIZE),sigs.k8s.io/kustomize/kustomize/v5,$(KUSTOMIZE_VERSION))

.PHONY: controller-gen
controller-gen: $(CONTROLLER_GEN) ## Download controller-gen locally if necessary.
$(CONTROLLER_GEN): $(LOCALBIN)
	$(call go-install-tool,$(CONTROLLER_GEN),sigs.k8s.io/controller-tools/cmd/controller-gen,$(CONTROLLER_TOOLS_VERSION))

.PHONY: setup-envtest
setup-envtest: envtest ## Obtain kube-apiserver and etcd for envtest (download, or build offline) and print their directory.
	@ENVTEST_K8S_VERSION=$(ENVTEST_K8S_VERSION) SETUP_ENVTEST="$(ENVTEST)" hack/envtest-assets.sh

.PHONY: envtest
envtest: $(ENVTEST) ## Download setup-envtest locally if necessary.
$(ENVTEST): $(LOCALBIN)
	$(call go-install-tool,$(ENVTEST),sigs.k8s.io/controller-runtime/tools/setup-envtest,$(ENVTEST_VERSION))

.PHONY: golangci-lint
golangci-lint: $(GOLANGCI_LINT) ## Download golangci-lint locally if necessary.
$(GOLANGCI_LINT): $(LOCALBIN)
	$(call go-install-tool,$(GOLANGCI_LINT),github.com/golangci/golangci-lint/v2/cmd/golangci-lint,$(GOLANGCI_LINT_VERSION))

.PHONY: kube-score
kube-score: $(KUBE_SCORE) ## Download kube-score (the e2e suite scores the rendered stack with it) locally if necessary.
$(KUBE_SCORE): $(LOCALBIN)
	$(call go-install-tool,$(KUBE_SCORE),github.com/zegl/kube-score/cmd/kube-score,$(KUBE_SCORE_VERSION))

# go-install-tool will 'go install' any package with custom target and name of binary, if it doesn't exist
# $1 - target path with name of binary
# $2 - package url which can be installed
# $3 - specific version of package
define go-install-tool
@[ -f "$(1)-$(3)" ] && [ "$$(readlink -- "$(1)" 2>/dev/null)" = "$(1)-$(3)" ] || { \
set -e; \
package=$(2)@$(3) ;\
echo "Downloading $${package}" ;\
rm -f "$(1)" ;\
GOBIN="$(LOCALBIN)" go install $${package} ;\
mv "$(LOCALBIN)/$$(basename "$(1)")" "$(1)-$(3)" ;\
} ;\
ln -sf "$$(realpath "$(1)-$(3)")" "$(1)"
endef

define gomodver
$(shell go list -m -f '{{if .Replace}}{{.Replace.Version}}{{else}}{{.Version}}{{end}}' $(1) 2>/dev/null)
endef
