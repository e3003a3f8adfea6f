# HealthCheck operator. `make help` lists the targets.

# Image the deployment manifests and `make docker-build` use.
IMG ?= ghcr.io/healthcheck-operator/healthcheck-operator:latest

# Every tool is pinned here and installed into bin/ by this Makefile: nothing but Go
# is assumed to be on the machine.
LOCALBIN ?= $(shell pwd)/bin
CONTROLLER_TOOLS_VERSION ?= v0.23.0
KUSTOMIZE_VERSION ?= v5.8.2
GOLANGCI_LINT_VERSION ?= v2.15.0
CONTROLLER_GEN ?= $(LOCALBIN)/controller-gen-$(CONTROLLER_TOOLS_VERSION)
KUSTOMIZE ?= $(LOCALBIN)/kustomize-$(KUSTOMIZE_VERSION)
GOLANGCI_LINT ?= $(LOCALBIN)/golangci-lint-$(GOLANGCI_LINT_VERSION)

# The control plane (etcd, kube-apiserver) and kubectl; envtest and `make run` find
# them through KUBEBUILDER_ASSETS. hack/envtest-assets.sh downloads them with the
# pinned setup-envtest, and builds them from source by the hack/envtest module when
# that fails or ENVTEST_FROM_SOURCE=1. ENVTEST_K8S_VERSION follows that module's
# Kubernetes minor version.
ENVTEST_ASSETS ?= $(LOCALBIN)/k8s
ENVTEST_BINARIES := $(ENVTEST_ASSETS)/etcd $(ENVTEST_ASSETS)/kube-apiserver $(ENVTEST_ASSETS)/kubectl
KUBECTL ?= $(ENVTEST_ASSETS)/kubectl
SETUP_ENVTEST_VERSION ?= v0.25.1
SETUP_ENVTEST ?= $(LOCALBIN)/setup-envtest-$(SETUP_ENVTEST_VERSION)
ENVTEST_K8S_VERSION ?= $(shell awk '$$1 == "k8s.io/kubernetes" { split(substr($$2, 2), v, "."); print v[1] "." v[2] ".x"; exit }' hack/envtest/go.mod)
ENVTEST_FROM_SOURCE ?=

# Four test binaries at a time on two cores: the envtest packages spend most of
# their time waiting on their API servers and on rounds, and with go's default of
# one per core `go test` kept the machine 80 % busy (200 s against 170 s warm).
GO_TEST_FLAGS ?= -race -count=1 -p 4

SHELL = /usr/bin/env bash -o pipefail
.SHELLFLAGS = -ec

.PHONY: all
all: build

##@ General

.PHONY: help
help: ## Show this help.
	@awk 'BEGIN {FS = ":.*##"; printf "\nUsage:\n  make \033[36m<target>\033[0m\n"} /^[a-zA-Z_0-9-]+:.*?##/ { printf "  \033[36m%-18s\033[0m %s\n", $$1, $$2 } /^##@/ { printf "\n\033[1m%s\033[0m\n", substr($$0, 5) } ' $(MAKEFILE_LIST)

##@ Development

.PHONY: manifests
manifests: controller-gen ## Generate the CRD and RBAC manifests from the Go markers.
	$(CONTROLLER_GEN) rbac:roleName=manager-role crd paths="./api/..." paths="./controllers/..." output:crd:artifacts:config=config/crd/bases output:rbac:artifacts:config=config/rbac

.PHONY: generate
generate: controller-gen ## Generate the DeepCopy methods of the API types.
	$(CONTROLLER_GEN) object:headerFile="hack/boilerplate.go.txt" paths="./api/..."

.PHONY: fmt
fmt: ## Run go fmt.
	go fmt ./...

.PHONY: vet
vet: ## Run go vet.
	go vet ./...

.PHONY: test
test: manifests helm-sync generate vet envtest helm ## Run every test (unit, envtest integration, end to end) with the race detector, then each fuzz target briefly.
	KUBEBUILDER_ASSETS="$(ENVTEST_ASSETS)" HELM="$(HELM)" go test $(GO_TEST_FLAGS) ./... 2>&1 | tee $(LOCALBIN)/test.log
	$(MAKE) --no-print-directory fuzz FUZZ_FRESH_CACHE=1 FUZZ_TARGETS="$(FUZZ_TEST_TARGETS)"

# Each fuzz target as package:name. `make fuzz` runs each for FUZZTIME; run longer
# on demand, building on what earlier runs found, e.g. `make fuzz FUZZTIME=10m`.
# hack/fuzz.sh retries a target when Go's fuzzing coordinator fails a clean run on
# its own deadline (see there). Every target's seed corpus runs in `go test` too.
FUZZ_TARGETS ?= ./internal/checker:FuzzParseStatusCodes ./internal/netpolicy:FuzzParseCIDRList ./internal/plugin:FuzzLoadManifests ./internal/assert:FuzzCompile
# `make test` fuzzes, from their seed corpus alone (FUZZ_FRESH_CACHE=1), the targets
# that reach thousands of inputs in FUZZTIME. FuzzLoadManifests and FuzzCompile
# build the Kubernetes validation and CEL stacks into an instrumented binary (about
# 20s of linking) to then try a few dozen inputs: their seeds run in `go test`, and
# `make fuzz` fuzzes them.
FUZZ_TEST_TARGETS ?= ./internal/checker:FuzzParseStatusCodes ./internal/netpolicy:FuzzParseCIDRList
FUZZTIME ?= 5s

.PHONY: fuzz
fuzz: ## Run every fuzz target for FUZZTIME (default 5s).
	FUZZ_FRESH_CACHE=$(FUZZ_FRESH_CACHE) hack/fuzz.sh $(FUZZTIME) $(FUZZ_TARGETS)

# `make bench` runs the benchmarks of docs/benchmarks.md one after the other (they
# share the machine's cores) and keeps what they print in BENCH_DIR. They report
# figures and never fail on speed.
BENCH_DIR ?= $(LOCALBIN)/bench
# The operator-scale runs, each HEALTHCHECKS:WINDOW[:MANAGER_FLAG]: that many
# HealthChecks of 10 targets every 10s, measured for WINDOW after warm-up, with
# the manager's default flags plus MANAGER_FLAG.
BENCH_SCALE ?= 1000:60s 2000:60s 3000:60s 5000:60s

.PHONY: bench
bench: manifests envtest ## Run the benchmarks of docs/benchmarks.md and print their figures (about 20 minutes).
	@mkdir -p $(BENCH_DIR)
	hack/bench/install-wrk.sh
	go build -o $(BENCH_DIR)/manager ./cmd/manager
	go build -o $(BENCH_DIR)/kubectl-healthcheck ./cmd/kubectl-healthcheck
	@echo ">> $$(nproc) cores; load average $$(cut -d' ' -f1-3 /proc/loadavg) (other work on the machine skews every figure)"
	@echo ">> 1/3 Latency-bound efficiency of the checker"
	go test -count=1 -run='^$$' -bench=BenchmarkRun -benchtime=5x ./internal/checker/ | tee $(BENCH_DIR)/latency.txt
	@echo ">> 2/3 Throughput and memory of the kubectl plugin, next to wrk"
	go run ./hack/bench/throughput -plugin $(BENCH_DIR)/kubectl-healthcheck -kubectl $(KUBECTL) | tee $(BENCH_DIR)/throughput.md
	@echo ">> 3/3 The operator at scale on envtest: a status write, a scrape, then whole managers"
	KUBEBUILDER_ASSETS="$(ENVTEST_ASSETS)" go test -count=1 -run='^$$' -bench=BenchmarkStatusWrite -benchtime=500x ./test/bench/ | tee $(BENCH_DIR)/status-write.txt
	KUBEBUILDER_ASSETS="$(ENVTEST_ASSETS)" go test -count=1 -run='^$$' -bench=BenchmarkScrape -benchtime=20x ./controllers/ 2>&1 | grep -v '^{"level"' | tee $(BENCH_DIR)/scrape.txt
	i=0; for run in $(BENCH_SCALE); do \
		IFS=: read -r healthchecks window flag <<< "$$run"; i=$$((i + 1)); \
		KUBEBUILDER_ASSETS="$(ENVTEST_ASSETS)" go test -count=1 -run='^$$' -bench=BenchmarkOperatorScale -benchtime=1x -timeout=30m ./test/bench/ \
			-args -scale.manager=$(BENCH_DIR)/manager -scale.healthchecks=$$healthchecks -scale.window=$$window -scale.manager-args="$$flag" \
			| tee $(BENCH_DIR)/scale-$$i.txt; \
	done
	@echo ">> Load average now $$(cut -d' ' -f1-3 /proc/loadavg); outputs in $(BENCH_DIR)"

.PHONY: lint
lint: golangci-lint ## Run golangci-lint (bodyclose, noctx, errcheck, staticcheck, revive).
	$(GOLANGCI_LINT) run

.PHONY: verify
verify: manifests generate ## Regenerate the manifests and fail when the tree is dirty.
	git diff --exit-code -- api config charts

##@ Build

.PHONY: build
build: manifests generate vet ## Build bin/manager and bin/kubectl-healthcheck (the kubectl plugin).
	go build -o $(LOCALBIN)/manager ./cmd/manager
	go build -o $(LOCALBIN)/kubectl-healthcheck ./cmd/kubectl-healthcheck

# Extra flags for bin/run-local, such as RUN_ARGS="--mode=embedded" (`bin/run-local -h` lists them).
# `make run` execs it, so that a SIGTERM from make reaches it, and it stops what it started.
RUN_ARGS ?=

.PHONY: run
run: manifests generate envtest ## Run the operator: on the kubeconfig's cluster if one answers, else on an embedded one with demo targets.
	@echo ">> Building bin/run-local (the first build takes a minute or two)."
	go build -v -o $(LOCALBIN)/run-local ./cmd/run-local 2>&1 \
		| awk '/^[^ ]+$$/ { if (++n % 50 == 0) { printf ">> compiled %d packages (now %s)\n", n, $$0; fflush() }; next } { print }'
	exec $(LOCALBIN)/run-local --assets=$(ENVTEST_ASSETS) --kubectl=$(KUBECTL) $(RUN_ARGS)

.PHONY: docker-build
docker-build: ## Build the operator image (needs a Docker engine).
	docker build -t $(IMG) .

##@ Deployment

.PHONY: install
install: manifests kustomize envtest ## Install the CRDs into the cluster of the current kubeconfig.
	$(KUSTOMIZE) build config/crd | $(KUBECTL) apply --server-side -f -

.PHONY: uninstall
uninstall: manifests kustomize envtest ## Remove the CRDs from the cluster of the current kubeconfig.
	$(KUSTOMIZE) build config/crd | $(KUBECTL) delete --ignore-not-found -f -

.PHONY: deploy
deploy: manifests kustomize envtest ## Deploy the operator (image IMG) into the cluster of the current kubeconfig.
	cd config/manager && $(KUSTOMIZE) edit set image controller=$(IMG)
	$(KUSTOMIZE) build config/default | $(KUBECTL) apply --server-side -f -

.PHONY: undeploy
undeploy: kustomize envtest ## Remove the operator from the cluster of the current kubeconfig.
	$(KUSTOMIZE) build config/default | $(KUBECTL) delete --ignore-not-found -f -

##@ Tools

.PHONY: envtest
envtest: $(ENVTEST_BINARIES) ## Put etcd, kube-apiserver and kubectl into bin/k8s: downloaded (seconds), else built from source (minutes, once).

$(ENVTEST_BINARIES) &: hack/envtest/go.mod hack/envtest/go.sum
	@if [ "$(ENVTEST_FROM_SOURCE)" != 1 ] && [ ! -x $(SETUP_ENVTEST) ]; then \
		$(MAKE) --no-print-directory setup-envtest || echo ">> Could not install setup-envtest $(SETUP_ENVTEST_VERSION)"; \
	fi
	ENVTEST_FROM_SOURCE="$(ENVTEST_FROM_SOURCE)" SETUP_ENVTEST="$(SETUP_ENVTEST)" ENVTEST_K8S_VERSION="$(ENVTEST_K8S_VERSION)" \
		hack/envtest-assets.sh $(ENVTEST_ASSETS)

.PHONY: setup-envtest
setup-envtest: $(SETUP_ENVTEST)
$(SETUP_ENVTEST):
	GOBIN=$(LOCALBIN) go install sigs.k8s.io/controller-runtime/tools/setup-envtest@$(SETUP_ENVTEST_VERSION)
	mv $(LOCALBIN)/setup-envtest $@

.PHONY: controller-gen
controller-gen: $(CONTROLLER_GEN)
$(CONTROLLER_GEN):
	GOBIN=$(LOCALBIN) go install sigs.k8s.io/controller-tools/cmd/controller-gen@$(CONTROLLER_TOOLS_VERSION)
	mv $(LOCALBIN)/controller-gen $@

.PHONY: kustomize
kustomize: $(KUSTOMIZE)
$(KUSTOMIZE):
	GOBIN=$(LOCALBIN) go install sigs.k8s.io/kustomize/kustomize/v5@$(KUSTOMIZE_VERSION)
	mv $(LOCALBIN)/kustomize $@

.PHONY: golangci-lint
golangci-lint: $(GOLANGCI_LINT)
$(GOLANGCI_LINT):
	GOBIN=$(LOCALBIN) go install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(GOLANGCI_LINT_VERSION)
	mv $(LOCALBIN)/golangci-lint $@

##@ Packaging

# The Helm chart mirrors the kustomize manifests. `make helm-sync` (run by `make
# test`) copies the generated parts into it: the CRDs, the manager's ClusterRole
# (rendered from the copy) and the example alerts. test/helm fails when a copy
# differs from config/ or the rest of the chart from its kustomize counterpart, and
# applies the rendered chart to a real API server with a server-side dry run.
HELM_VERSION ?= v4.3.1
HELM ?= $(LOCALBIN)/helm-$(HELM_VERSION)
CHART_DIR ?= charts/healthcheck-operator
# dist/install.yaml is built, not committed: it is an artefact of a release, with
# the release's image in it (see docs/helm.md).
DIST_DIR ?= dist
PLATFORMS ?= linux/amd64,linux/arm64

.PHONY: docker-push
docker-push: ## Push the operator image IMG (needs a Docker engine).
	docker push $(IMG)

.PHONY: docker-buildx
docker-buildx: ## Build and push the image IMG for every platform in PLATFORMS (needs docker buildx).
	docker buildx build --push --platform=$(PLATFORMS) -t $(IMG) .

.PHONY: build-installer
build-installer: manifests kustomize ## Write dist/install.yaml: CRDs, RBAC and the deployment of image IMG, in one file.
	@mkdir -p $(DIST_DIR)
	rm -rf $(DIST_DIR)/.kustomize && mkdir -p $(DIST_DIR)/.kustomize
	cp -r config $(DIST_DIR)/.kustomize/
	cd $(DIST_DIR)/.kustomize/config/manager && $(KUSTOMIZE) edit set image controller=$(IMG)
	$(KUSTOMIZE) build $(DIST_DIR)/.kustomize/config/default > $(DIST_DIR)/install.yaml
	rm -rf $(DIST_DIR)/.kustomize

.PHONY: helm-sync
helm-sync: manifests ## Regenerate the manifests, then copy the CRDs, manager ClusterRole, example alerts and Grafana dashboard into the chart.
	@mkdir -p $(CHART_DIR)/crds $(CHART_DIR)/files
	rm -f $(CHART_DIR)/crds/*.yaml
	cp config/crd/bases/*.yaml $(CHART_DIR)/crds/
	cp config/rbac/role.yaml $(CHART_DIR)/files/manager-role.yaml
	cp config/prometheus/alerts.yaml $(CHART_DIR)/files/prometheus-alerts.yaml
	cp config/grafana/healthcheck-dashboard.json $(CHART_DIR)/files/grafana-dashboard.json

.PHONY: helm-lint
helm-lint: helm helm-sync ## Lint the Helm chart strictly (warnings fail too).
	$(HELM) lint --strict $(CHART_DIR)

.PHONY: helm-package
helm-package: helm helm-sync ## Package the Helm chart into dist/.
	@mkdir -p $(DIST_DIR)
	$(HELM) package $(CHART_DIR) -d $(DIST_DIR)

.PHONY: helm
helm: $(HELM) ## Build the pinned Helm CLI into bin/.
$(HELM):
	GOBIN=$(LOCALBIN) go install helm.sh/helm/v4/cmd/helm@$(HELM_VERSION)
	mv $(LOCALBIN)/helm $@
