{{/*
The chart's name, or nameOverride.
*/}}
{{- define "healthcheck-operator.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The prefix of every object's name. With a release named healthcheck-operator the
objects get the names `kustomize build config/default` gives them.
*/}}
{{- define "healthcheck-operator.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/*
Labels of every object.
*/}}
{{- define "healthcheck-operator.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "healthcheck-operator.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/*
Labels that select the manager's pods; the metrics Service and ServiceMonitor use them too.
*/}}
{{- define "healthcheck-operator.selectorLabels" -}}
control-plane: controller-manager
app.kubernetes.io/name: {{ include "healthcheck-operator.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/*
The manager's ServiceAccount.
*/}}
{{- define "healthcheck-operator.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (printf "%s-controller-manager" (include "healthcheck-operator.fullname" .)) .Values.serviceAccount.name }}
{{- else }}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/*
The manager's image: a digest wins over a tag; the tag defaults to appVersion.
*/}}
{{- define "healthcheck-operator.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{/*
The manager's arguments: the chart's own flags, then extraArgs.
*/}}
{{- define "healthcheck-operator.args" -}}
{{- if .Values.leaderElection.enabled }}
- --leader-elect
{{- end }}
- --metrics-bind-address=:{{ .Values.metrics.port }}
- --health-probe-bind-address=:8081
{{- with .Values.outboundPolicy.denyCIDRs }}
- --deny-cidrs={{ join "," . }}
{{- end }}
{{- with .Values.outboundPolicy.allowCIDRs }}
- --allow-cidrs={{ join "," . }}
{{- end }}
{{- $shards := include "healthcheck-operator.shards" . | int }}
{{- if gt $shards 1 }}
- --total-shards={{ $shards }}
- --shard-index=-1
{{- end }}
{{- range .Values.extraArgs }}
- {{ . | quote }}
{{- end }}
{{- end }}

{{/*
The metrics Service: a Service name is a DNS label of at most 63 characters, so
the prefix is shortened to make room for the suffix kustomize uses.
*/}}
{{- define "healthcheck-operator.metricsServiceName" -}}
{{- printf "%s-controller-manager-metrics-service" (include "healthcheck-operator.fullname" . | trunc 28 | trimSuffix "-") }}
{{- end }}

{{/*
sharding.shards, validated: an integer of at least 1. More than 1 runs a
StatefulSet of that many pods, one per shard, instead of the Deployment.
*/}}
{{- define "healthcheck-operator.shards" -}}
{{- $shards := dig "shards" 1 (.Values.sharding | default dict) }}
{{- if not (or (kindIs "int" $shards) (kindIs "int64" $shards) (kindIs "float64" $shards)) }}
{{- fail (printf "sharding.shards must be an integer of at least 1, not %v" $shards) }}
{{- end }}
{{- if or (ne (float64 $shards) (floor $shards)) (lt (float64 $shards) 1.0) }}
{{- fail (printf "sharding.shards must be an integer of at least 1, not %v" $shards) }}
{{- end }}
{{- if and (gt (int $shards) 1) (gt (int .Values.replicaCount) 1) }}
{{- fail (printf "replicaCount is %v but sharding.shards is %v: a sharded release runs one pod per shard, so set replicaCount to 1 (or leave it out) and scale with sharding.shards" .Values.replicaCount $shards) }}
{{- end }}
{{- int $shards }}
{{- end }}

{{/*
The sharded StatefulSet: named as the Deployment is, but its pods are named after
it and the revision label it gives them (NAME-HASH) must fit 63 characters, so the
prefix is shortened to keep it to 52.
*/}}
{{- define "healthcheck-operator.statefulSetName" -}}
{{- printf "%s-controller-manager" (include "healthcheck-operator.fullname" . | trunc 33 | trimSuffix "-") }}
{{- end }}

{{/*
The headless Service that gives the sharded StatefulSet's pods their network
identity (its serviceName); like the metrics Service, a DNS label.
*/}}
{{- define "healthcheck-operator.headlessServiceName" -}}
{{- printf "%s-controller-manager-headless" (include "healthcheck-operator.fullname" . | trunc 35 | trimSuffix "-") }}
{{- end }}

{{/*
The manager's pod template, shared by the Deployment and the sharded StatefulSet
so that both run the same pod.
*/}}
{{- define "healthcheck-operator.podTemplate" -}}
metadata:
  labels:
    {{- include "healthcheck-operator.labels" . | nindent 4 }}
    {{- with .Values.podLabels }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  annotations:
    kubectl.kubernetes.io/default-container: manager
    {{- with .Values.podAnnotations }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
spec:
  serviceAccountName: {{ include "healthcheck-operator.serviceAccountName" . }}
  terminationGracePeriodSeconds: 10
  {{- with .Values.imagePullSecrets }}
  imagePullSecrets:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with .Values.priorityClassName }}
  priorityClassName: {{ . }}
  {{- end }}
  securityContext:
    runAsNonRoot: true
    seccompProfile:
      type: RuntimeDefault
  containers:
  - name: manager
    image: {{ include "healthcheck-operator.image" . }}
    imagePullPolicy: {{ .Values.image.pullPolicy }}
    command: ["/manager"]
    args:
      {{- include "healthcheck-operator.args" . | trim | nindent 6 }}
    ports:
    - name: metrics
      containerPort: {{ .Values.metrics.port }}
      protocol: TCP
    securityContext:
      allowPrivilegeEscalation: false
      readOnlyRootFilesystem: true
      capabilities:
        drop: ["ALL"]
    livenessProbe:
      httpGet:
        path: /healthz
        port: 8081
      initialDelaySeconds: 15
      periodSeconds: 20
    readinessProbe:
      httpGet:
        path: /readyz
        port: 8081
      initialDelaySeconds: 5
      periodSeconds: 10
    {{- with .Values.resources }}
    resources:
      {{- toYaml . | nindent 6 }}
    {{- end }}
  {{- with .Values.nodeSelector }}
  nodeSelector:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with .Values.affinity }}
  affinity:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with .Values.tolerations }}
  tolerations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with .Values.topologySpreadConstraints }}
  topologySpreadConstraints:
    {{- toYaml . | nindent 4 }}
  {{- end }}
{{- end }}
