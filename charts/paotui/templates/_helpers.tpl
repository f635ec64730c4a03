{{/* Chart name. */}}
{{- define "paotui.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Fully qualified app name; leaves room for the -api/-worker/-migrate suffixes. */}}
{{- define "paotui.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 55 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 55 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 55 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "paotui.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "paotui.labels" -}}
helm.sh/chart: {{ include "paotui.chart" . }}
{{ include "paotui.selectorLabels" . }}
app.kubernetes.io/version: {{ (.Values.image.tag | default .Chart.AppVersion) | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: paotui
{{- end }}

{{- define "paotui.selectorLabels" -}}
app.kubernetes.io/name: {{ include "paotui.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "paotui.image" -}}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) }}
{{- end }}

{{- define "paotui.baseDomain" -}}
{{- required "baseDomain is required (tenants live at <slug>.<baseDomain>)" .Values.baseDomain }}
{{- end }}

{{/* The environment every paotui container gets: plain settings, then the Secret's keys. */}}
{{- define "paotui.env" -}}
- name: PAOTUI_BASE_DOMAIN
  value: {{ include "paotui.baseDomain" . | quote }}
- name: PAOTUI_HTTP_ADDR
  value: {{ printf ":%v" .Values.api.containerPort | quote }}
{{- range $name, $value := .Values.env }}
- name: {{ $name }}
  value: {{ $value | toString | quote }}
{{- end }}
{{- $secret := required "secret.existingSecret is required (a Secret with the database URL, Redis URL and master key)" .Values.secret.existingSecret }}
{{- range $name, $key := .Values.secret.keys }}
- name: {{ $name }}
  valueFrom:
    secretKeyRef:
      name: {{ $secret }}
      key: {{ $key }}
{{- end }}
{{- with .Values.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* Pod spec fields shared by the api, worker and migrate pods. */}}
{{- define "paotui.podCommon" -}}
{{- /* No docker-link env vars: a Service named "paotui" would inject PAOTUI_PORT,
       PAOTUI_SERVICE_HOST, ... into the PAOTUI_* namespace the config loader reads. */ -}}
enableServiceLinks: false
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.serviceAccountName }}
serviceAccountName: {{ . }}
{{- end }}
{{- with .Values.podSecurityContext }}
securityContext:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}
