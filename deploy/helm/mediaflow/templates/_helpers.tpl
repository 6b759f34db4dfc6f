{{/* Names */}}
{{- define "mediaflow.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "mediaflow.fullname" -}}
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

{{- define "mediaflow.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "mediaflow.labels" -}}
helm.sh/chart: {{ include "mediaflow.chart" . }}
{{ include "mediaflow.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{- define "mediaflow.selectorLabels" -}}
app.kubernetes.io/name: {{ include "mediaflow.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "mediaflow.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "mediaflow.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "mediaflow.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{- define "mediaflow.configMapName" -}}
{{- printf "%s-config" (include "mediaflow.fullname" .) }}
{{- end }}

{{- define "mediaflow.secretName" -}}
{{- printf "%s-secrets" (include "mediaflow.fullname" .) }}
{{- end }}

{{/* Worker Deployment name for one queue entry: (dict "root" $ "queue" $queue) */}}
{{- define "mediaflow.workerName" -}}
{{- printf "%s-worker-%s" (include "mediaflow.fullname" .root) .queue.name | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
DATABASE_URL built from the values; fails when there is no way to reach a database.
Only called when database.existingSecret.name is empty.
*/}}
{{- define "mediaflow.databaseUrl" -}}
{{- $db := .Values.database }}
{{- if $db.url }}
{{- $db.url }}
{{- else }}
{{- $host := required "database: set database.url, database.host (with user/password) or database.existingSecret.name" $db.host }}
{{- $auth := urlquery $db.user }}
{{- if $db.password }}{{ $auth = printf "%s:%s" $auth (urlquery $db.password) }}{{ end }}
{{- $url := printf "postgresql://%s@%s:%d/%s" $auth $host (int $db.port) $db.name }}
{{- if $db.sslmode }}{{ $url = printf "%s?sslmode=%s" $url $db.sslmode }}{{ end }}
{{- $url }}
{{- end }}
{{- end }}

{{/*
Secret env vars: name -> (secret name, key). The chart's own Secret holds every value given in
values; a group with existingSecret.name points at that Secret instead.
*/}}
{{- define "mediaflow.secretEnv" -}}
{{- $own := include "mediaflow.secretName" . }}
{{- $v := .Values }}
{{- $out := dict }}
{{- if $v.database.existingSecret.name }}
{{- $_ := set $out "DATABASE_URL" (list $v.database.existingSecret.name $v.database.existingSecret.key) }}
{{- else }}
{{- $_ := set $out "DATABASE_URL" (list $own "DATABASE_URL") }}
{{- end }}
{{- if $v.s3.existingSecret.name }}
{{- $_ := set $out "S3_ACCESS_KEY" (list $v.s3.existingSecret.name $v.s3.existingSecret.accessKeyKey) }}
{{- $_ := set $out "S3_SECRET_KEY" (list $v.s3.existingSecret.name $v.s3.existingSecret.secretKeyKey) }}
{{- else }}
{{- $_ := set $out "S3_ACCESS_KEY" (list $own "S3_ACCESS_KEY") }}
{{- $_ := set $out "S3_SECRET_KEY" (list $own "S3_SECRET_KEY") }}
{{- end }}
{{- if $v.temporal.apiKey.existingSecret.name }}
{{- $_ := set $out "TEMPORAL_API_KEY" (list $v.temporal.apiKey.existingSecret.name $v.temporal.apiKey.existingSecret.key) }}
{{- else if $v.temporal.apiKey.value }}
{{- $_ := set $out "TEMPORAL_API_KEY" (list $own "TEMPORAL_API_KEY") }}
{{- end }}
{{- if $v.ai.existingSecret.name }}
{{- $_ := set $out "OPENAI_API_KEY" (list $v.ai.existingSecret.name $v.ai.existingSecret.openaiKey "optional") }}
{{- $_ := set $out "ANTHROPIC_API_KEY" (list $v.ai.existingSecret.name $v.ai.existingSecret.anthropicKey "optional") }}
{{- else }}
{{- if $v.ai.openaiApiKey }}{{ $_ := set $out "OPENAI_API_KEY" (list $own "OPENAI_API_KEY") }}{{ end }}
{{- if $v.ai.anthropicApiKey }}{{ $_ := set $out "ANTHROPIC_API_KEY" (list $own "ANTHROPIC_API_KEY") }}{{ end }}
{{- end }}
{{- range $name, $field := (include "mediaflow.appSecretFields" . | fromJson) }}
{{- if $v.appSecrets.existingSecret.name }}
{{- $_ := set $out $name (list $v.appSecrets.existingSecret.name (index $v.appSecrets.existingSecret.keys $name)) }}
{{- else if index $v.appSecrets $field }}
{{- $_ := set $out $name (list $own $name) }}
{{- end }}
{{- end }}
{{- range $name, $_ := $v.secrets.extra }}
{{- $_ := set $out $name (list $own $name) }}
{{- end }}
{{- toJson $out }}
{{- end }}

{{/* The data of the chart's own Secret (name -> plain value); empty when every group uses an existing Secret. */}}
{{- define "mediaflow.secretData" -}}
{{- $v := .Values }}
{{- $out := dict }}
{{- if not $v.database.existingSecret.name }}
{{- $_ := set $out "DATABASE_URL" (include "mediaflow.databaseUrl" .) }}
{{- end }}
{{- if not $v.s3.existingSecret.name }}
{{- $_ := set $out "S3_ACCESS_KEY" (required "s3: set s3.accessKey/s3.secretKey or s3.existingSecret.name" $v.s3.accessKey) }}
{{- $_ := set $out "S3_SECRET_KEY" (required "s3: set s3.accessKey/s3.secretKey or s3.existingSecret.name" $v.s3.secretKey) }}
{{- end }}
{{- if and (not $v.temporal.apiKey.existingSecret.name) $v.temporal.apiKey.value }}
{{- $_ := set $out "TEMPORAL_API_KEY" $v.temporal.apiKey.value }}
{{- end }}
{{- if not $v.ai.existingSecret.name }}
{{- if $v.ai.openaiApiKey }}{{ $_ := set $out "OPENAI_API_KEY" $v.ai.openaiApiKey }}{{ end }}
{{- if $v.ai.anthropicApiKey }}{{ $_ := set $out "ANTHROPIC_API_KEY" $v.ai.anthropicApiKey }}{{ end }}
{{- end }}
{{- if not $v.appSecrets.existingSecret.name }}
{{- range $name, $field := (include "mediaflow.appSecretFields" . | fromJson) }}
{{- $value := index $v.appSecrets $field }}
{{- if and (not $value) (eq $v.config.nodeEnv "production") }}
{{- fail (printf "appSecrets.%s is required in production (%s; see the chart README), or set appSecrets.existingSecret.name" $field $name) }}
{{- end }}
{{- if $value }}{{ $_ := set $out $name $value }}{{ end }}
{{- end }}
{{- end }}
{{- range $name, $value := $v.secrets.extra }}
{{- $_ := set $out $name $value }}
{{- end }}
{{- toJson $out }}
{{- end }}

{{/*
The secrets production requires (lib/config.ts derives them outside production): env name -> field
of appSecrets.
*/}}
{{- define "mediaflow.appSecretFields" -}}
{{- dict "JWT_SECRET" "jwtSecret" "STORAGE_MASTER_KEYS" "storageMasterKeys" "TEMPORAL_CODEC_KEYS" "temporalCodecKeys" "WEBHOOK_SECRET_KEY" "webhookSecretKey" "DOWNLOAD_LINK_SECRETS" "downloadLinkSecrets" | toJson }}
{{- end }}

{{/*
Secrets only some processes use (least privilege): env name -> components. JWT_SECRET and
DOWNLOAD_LINK_SECRETS sign and verify in the API only; the worker shares the storage and codec
keyrings (it reads and writes the same objects and payloads) and WEBHOOK_SECRET_KEY (it signs
deliveries). Names not listed go to every component.
*/}}
{{- define "mediaflow.secretScopes" -}}
{{- dict "JWT_SECRET" (list "api") "DOWNLOAD_LINK_SECRETS" (list "api") | toJson }}
{{- end }}

{{/* env entries for the secret variables a component uses: (dict "root" $ "component" "api"|"worker") */}}
{{- define "mediaflow.secretEnvList" -}}
{{- $scopes := include "mediaflow.secretScopes" .root | fromJson }}
{{- $component := .component }}
{{- range $name, $ref := (include "mediaflow.secretEnv" .root | fromJson) }}
{{- if or (not (hasKey $scopes $name)) (has $component (get $scopes $name)) }}
- name: {{ $name }}
  valueFrom:
    secretKeyRef:
      name: {{ index $ref 0 | quote }}
      key: {{ index $ref 1 | quote }}
      {{- if gt (len $ref) 2 }}
      optional: true
      {{- end }}
{{- end }}
{{- end }}
{{- end }}

{{- define "mediaflow.temporalTlsMountPath" -}}/etc/mediaflow/temporal-tls{{- end }}

{{/* Non-secret Temporal TLS env (also used by the search-attribute Job: the temporal CLI reads the same names). */}}
{{- define "mediaflow.temporalTlsEnv" -}}
{{- $tls := .Values.temporal.tls }}
- name: TEMPORAL_TLS
  {{- /* An API key (Temporal Cloud) always travels over TLS. */}}
  value: {{ or $tls.enabled (ne .Values.temporal.apiKey.value "") (ne .Values.temporal.apiKey.existingSecret.name "") | toString | quote }}
{{- if and $tls.enabled $tls.secretName }}
{{- if $tls.caKey }}
- name: TEMPORAL_TLS_CA_PATH
  value: {{ printf "%s/%s" (include "mediaflow.temporalTlsMountPath" .) $tls.caKey | quote }}
{{- end }}
{{- if $tls.certKey }}
- name: TEMPORAL_TLS_CERT_PATH
  value: {{ printf "%s/%s" (include "mediaflow.temporalTlsMountPath" .) $tls.certKey | quote }}
- name: TEMPORAL_TLS_KEY_PATH
  value: {{ printf "%s/%s" (include "mediaflow.temporalTlsMountPath" .) $tls.keyKey | quote }}
{{- end }}
{{- end }}
{{- end }}

{{- define "mediaflow.temporalTlsVolumeMount" -}}
{{- if and .Values.temporal.tls.enabled .Values.temporal.tls.secretName }}
- name: temporal-tls
  mountPath: {{ include "mediaflow.temporalTlsMountPath" . }}
  readOnly: true
{{- end }}
{{- end }}

{{- define "mediaflow.temporalTlsVolume" -}}
{{- if and .Values.temporal.tls.enabled .Values.temporal.tls.secretName }}
- name: temporal-tls
  secret:
    secretName: {{ .Values.temporal.tls.secretName | quote }}
    defaultMode: 0440
{{- end }}
{{- end }}

{{/* Everything an app container needs in its environment: ConfigMap, secrets, TLS paths. */}}
{{- define "mediaflow.appEnv" -}}
envFrom:
  - configMapRef:
      name: {{ include "mediaflow.configMapName" .root }}
env:
  {{- include "mediaflow.temporalTlsEnv" .root | trim | nindent 2 }}
  {{- include "mediaflow.secretEnvList" . | trim | nindent 2 }}
{{- end }}

{{/* Pod-level pieces shared by all mediaflow pods. */}}
{{- define "mediaflow.podCommon" -}}
serviceAccountName: {{ include "mediaflow.serviceAccountName" . }}
automountServiceAccountToken: {{ .Values.automountServiceAccountToken }}
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
securityContext:
  {{- toYaml .Values.podSecurityContext | nindent 2 }}
{{- end }}

{{/* Rolls pods when the ConfigMap or the chart's Secret changes. */}}
{{- define "mediaflow.checksumAnnotations" -}}
checksum/config: {{ include (print .Template.BasePath "/configmap.yaml") . | sha256sum }}
checksum/secret: {{ include "mediaflow.secretData" . | sha256sum }}
{{- end }}
