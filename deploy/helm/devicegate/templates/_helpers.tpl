{{/*
Expand the name of the chart.
*/}}
{{- define "devicegate.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Create a default fully qualified app name.
We truncate at 63 chars because some Kubernetes name fields are limited to this (by the DNS naming spec).
If release name contains chart name it will be used as a full name.
*/}}
{{- define "devicegate.fullname" -}}
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
Create chart name and version as used by the chart label.
*/}}
{{- define "devicegate.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Common labels
*/}}
{{- define "devicegate.labels" -}}
helm.sh/chart: {{ include "devicegate.chart" . }}
{{ include "devicegate.selectorLabels" . }}
{{- if .Chart.AppVersion }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
{{- end }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/*
Selector labels
*/}}
{{- define "devicegate.selectorLabels" -}}
app.kubernetes.io/name: {{ include "devicegate.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/*
Selector labels of the server's pods, which the migration Job's and the test's pods do not match
*/}}
{{- define "devicegate.serverSelectorLabels" -}}
{{ include "devicegate.selectorLabels" . }}
app.kubernetes.io/component: server
{{- end }}

{{/*
Create the name of the service account to use
*/}}
{{- define "devicegate.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "devicegate.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/*
The image of the server and of the migrations.
*/}}
{{- define "devicegate.image" -}}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) }}
{{- end }}

{{/*
The Secret the pods read their secret variables from: an existing one, or the chart's.
*/}}
{{- define "devicegate.secretName" -}}
{{- default (include "devicegate.fullname" .) .Values.secrets.existingSecret }}
{{- end }}

{{/*
The Secret the migration Job reads DATABASE_URL from. A pre-install hook runs before the
chart's own Secret exists, so the Job gets a hook Secret of its own unless an existing one is named.
*/}}
{{- define "devicegate.migrationSecretName" -}}
{{- if .Values.secrets.existingSecret }}
{{- .Values.secrets.existingSecret }}
{{- else }}
{{- printf "%s-migrate" (include "devicegate.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}

{{/*
The server's volumes: the config file, and /tmp, the one writable path under a read-only root filesystem.
*/}}
{{- define "devicegate.volumeMounts" -}}
- name: config
  mountPath: /etc/devicegate
  readOnly: true
- name: tmp
  mountPath: /tmp
{{- end }}

{{- define "devicegate.volumes" -}}
- name: config
  configMap:
    name: {{ include "devicegate.fullname" . }}-config
- name: tmp
  emptyDir:
    sizeLimit: {{ .Values.tmpSizeLimit }}
{{- end }}

{{/*
The chart's Secret: the variables set under secrets, each only when given.
*/}}
{{- define "devicegate.secretData" -}}
{{- with .Values.secrets.secretKeys }}
SECRET_KEYS: {{ . | b64enc | quote }}
{{- end }}
{{- with .Values.secrets.databaseUrl }}
DATABASE_URL: {{ . | b64enc | quote }}
{{- end }}
{{- with .Values.secrets.redisUrl }}
REDIS_URL: {{ . | b64enc | quote }}
{{- end }}
{{- range $name, $value := .Values.secrets.extra }}
{{ $name }}: {{ $value | toString | b64enc | quote }}
{{- end }}
{{- end }}
