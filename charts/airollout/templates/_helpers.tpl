{{/* Names and labels shared by every object of the chart. */}}

{{- define "airollout.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "airollout.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else if contains (include "airollout.name" .) .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name (include "airollout.name" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "airollout.selectorLabels" -}}
app.kubernetes.io/name: {{ include "airollout.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "airollout.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{ include "airollout.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{- define "airollout.serviceAccountName" -}}
{{- .Values.serviceAccount.name -}}
{{- end -}}

{{/* The Secret whose key `token` the analysis endpoint's callers must present. */}}
{{- define "airollout.analysisSecret" -}}
{{- default (printf "%s-analysis" (include "airollout.fullname" .)) .Values.analysis.existingSecret -}}
{{- end -}}

{{- define "airollout.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}

{{/* Refuse combinations the schema cannot express, naming the values. */}}
{{- define "airollout.checks" -}}
{{- if and (gt (int .Values.replicaCount) 1) (not .Values.leaderElection.enabled) -}}
{{- fail "replicaCount > 1 needs leaderElection.enabled: true (only one operator may reconcile)" -}}
{{- end -}}
{{- if and .Values.analysis.enabled (has (int .Values.analysis.port) (list (int .Values.metrics.port) (int .Values.health.port))) -}}
{{- fail "analysis.port must differ from metrics.port and health.port" -}}
{{- end -}}
{{- if and (eq .Values.rbac.scope "cluster") .Values.watchNamespaces -}}
{{- fail "watchNamespaces is set but rbac.scope is cluster: set rbac.scope: namespaces" -}}
{{- end -}}
{{- $le := .Values.leaderElection -}}
{{- if not (and (lt (float64 $le.retryPeriod) (float64 $le.renewDeadline)) (lt (float64 $le.renewDeadline) (float64 $le.leaseDuration))) -}}
{{- fail "leaderElection: needs retryPeriod < renewDeadline < leaseDuration" -}}
{{- end -}}
{{- end -}}

{{/*
The rules the operator needs in a namespace it watches, for a Role or the ClusterRole.
Deployments: the target and its -canary copy (get, create, patch, update, delete), and
list/watch for the cache the router and the pod reader read instead of a GET per check.
ConfigMaps: the decision log (list and delete for its parts and retention).
Events: one per decision, bumped (get, patch) when it repeats.
Secrets: get only, only the named LLM key Secrets.
*/}}
{{- define "airollout.rules" -}}
- apiGroups: ["airollout.dev"]
  resources: ["airollouts"]
  verbs: ["get", "list", "watch", "patch"]
- apiGroups: ["airollout.dev"]
  resources: ["airollouts/status"]
  verbs: ["patch"]
- apiGroups: ["apps"]
  resources: ["deployments"]
  verbs: ["get", "list", "watch", "create", "patch", "update", "delete"]
- apiGroups: [""]
  resources: ["configmaps"]
  verbs: ["get", "list", "create", "patch", "delete"]
- apiGroups: [""]
  resources: ["events"]
  verbs: ["get", "create", "patch"]
- apiGroups: ["batch"]
  resources: ["jobs"]
  verbs: ["get", "create"]
- apiGroups: [""]
  resources: ["pods"]
  verbs: ["list", "watch"]
{{- with .Values.llm.apiKeySecrets }}
- apiGroups: [""]
  resources: ["secrets"]
  resourceNames: {{ toJson . }}
  verbs: ["get"]
{{- end }}
{{- end -}}

{{/* The operator's arguments, one per line of a YAML list. */}}
{{- define "airollout.args" -}}
- --metrics-port={{ .Values.metrics.port }}
- --health-port={{ .Values.health.port }}
- --tick={{ .Values.operator.tick }}
- --workers={{ .Values.operator.workers }}
- --decision-log-retention={{ .Values.operator.decisionLogRetention }}
{{- if eq .Values.rbac.scope "namespaces" }}
{{- range .Values.watchNamespaces }}
- --namespace={{ . }}
{{- end }}
{{- end }}
{{- with .Values.operator.prometheusUrl }}
- --prometheus-url={{ . }}
{{- end }}
{{- if .Values.leaderElection.enabled }}
- --leader-elect
- --leader-elect-namespace={{ .Release.Namespace }}
- --leader-elect-id={{ .Values.leaderElection.leaseName }}
- --leader-elect-lease-duration={{ .Values.leaderElection.leaseDuration }}
- --leader-elect-renew-deadline={{ .Values.leaderElection.renewDeadline }}
- --leader-elect-retry-period={{ .Values.leaderElection.retryPeriod }}
{{- end }}
{{- if .Values.analysis.enabled }}
- --analysis-port={{ .Values.analysis.port }}
{{- end }}
{{- if .Values.operator.verbose }}
- --verbose
{{- end }}
{{- range .Values.operator.extraArgs }}
- {{ . | quote }}
{{- end }}
{{- end -}}
