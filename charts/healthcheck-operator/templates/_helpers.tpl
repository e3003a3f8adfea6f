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
