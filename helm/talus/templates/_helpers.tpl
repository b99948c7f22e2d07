{{/* Names */}}
{{- define "talus.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "talus.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "talus.nodeName" -}}{{ include "talus.fullname" . | trunc 58 | trimSuffix "-" }}-node{{- end -}}
{{- define "talus.headless" -}}{{ include "talus.fullname" . | trunc 54 | trimSuffix "-" }}-headless{{- end -}}

{{- define "talus.labels" -}}
app.kubernetes.io/name: {{ include "talus.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end -}}

{{- define "talus.selectorLabels" -}}
app.kubernetes.io/name: {{ include "talus.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: node
{{- end -}}

{{- define "talus.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "talus.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* An image reference: global registry, then the image's own, repository, tag or digest */}}
{{- define "talus.imageRef" -}}
{{- $registry := default .image.registry .global.imageRegistry -}}
{{- $repo := ternary (printf "%s/%s" $registry .image.repository) .image.repository (ne $registry "") -}}
{{- if .image.digest -}}{{ $repo }}@{{ .image.digest }}{{- else -}}{{ $repo }}:{{ .image.tag }}{{- end -}}
{{- end -}}

{{- define "talus.image" -}}{{ include "talus.imageRef" (dict "image" .Values.image "global" .Values.global) }}{{- end -}}
{{- define "talus.sentinelImage" -}}{{ include "talus.imageRef" (dict "image" .Values.sentinel.image "global" .Values.global) }}{{- end -}}

{{- define "talus.secretName" -}}
{{- default (include "talus.fullname" .) .Values.auth.existingSecret -}}
{{- end -}}
{{- define "talus.secretPasswordKey" -}}
{{- if .Values.auth.existingSecret -}}{{ .Values.auth.existingSecretPasswordKey }}{{- else -}}talus-password{{- end -}}
{{- end -}}

{{- define "talus.databaseSecretName" -}}
{{- default (printf "%s-externaldb" (include "talus.fullname" .)) .Values.externalDatabase.existingSecret -}}
{{- end -}}
{{- define "talus.databaseSecretKey" -}}
{{- if .Values.externalDatabase.existingSecret -}}{{ .Values.externalDatabase.existingSecretPasswordKey }}{{- else -}}postgres-password{{- end -}}
{{- end -}}

{{- define "talus.storageClass" -}}
{{- $sc := default .global.storageClass .storageClass -}}
{{- if $sc -}}
{{- if eq "-" $sc }}
storageClassName: ""
{{- else }}
storageClassName: {{ $sc | quote }}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* One talus.conf value: booleans as yes/no, lists space-separated, whole numbers without exponent;
     a value with spaces or quotes (or an empty one) is double-quoted, which Talus reads as one value */}}
{{- define "talus.confValue" -}}
{{- $v := . -}}
{{- if kindIs "bool" . -}}{{- $v = ternary "yes" "no" . -}}
{{- else if kindIs "slice" . -}}{{- $v = join " " . -}}
{{- else if and (kindIs "float64" .) (eq . (float64 (int64 .))) -}}{{- $v = int64 . | toString -}}
{{- else -}}{{- $v = toString . -}}
{{- end -}}
{{- if regexMatch "^[^\\s\"'\\\\]+$" $v -}}{{ $v }}{{- else -}}{{ $v | quote }}{{- end -}}
{{- end -}}

{{- define "talus.validateValues" -}}
{{- if and .Values.sentinel.enabled (lt (int .Values.talus.replicaCount) 2) -}}
{{- fail "sentinel.enabled needs talus.replicaCount >= 2 (a leader and at least one follower)" -}}
{{- end -}}
{{- if and .Values.sentinel.enabled (gt (int .Values.sentinel.quorum) (int .Values.talus.replicaCount)) -}}
{{- fail "sentinel.quorum cannot exceed talus.replicaCount (one Sentinel runs in each pod)" -}}
{{- end -}}
{{- if and .Values.externalDatabase.enabled (not .Values.externalDatabase.host) -}}
{{- fail "externalDatabase.enabled needs externalDatabase.host" -}}
{{- end -}}
{{- end -}}
