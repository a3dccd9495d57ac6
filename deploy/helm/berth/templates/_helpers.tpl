{{/* berth chart helpers. */}}

{{- define "berth.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "berth.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else if contains (include "berth.name" .) .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name (include "berth.name" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "berth.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/name: {{ include "berth.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: berth
{{- with .Values.labels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{- define "berth.selectorLabels" -}}
app.kubernetes.io/name: {{ include "berth.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: provisioner
{{- end -}}

{{- define "berth.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "berth.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "berth.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}

{{/* true when a backend that talks to AWS is on. */}}
{{- define "berth.aws" -}}
{{- if or .Values.ebs.enabled .Values.efs.enabled -}}true{{- end -}}
{{- end -}}

{{/* One StorageClass: ctx is a dict with root, class, provisioner. */}}
{{- define "berth.storageClass" -}}
{{- $c := .class -}}
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: {{ required "every StorageClass needs a name" $c.name }}
  labels:
    {{- include "berth.labels" .root | nindent 4 }}
  {{- if or $c.defaultClass $c.annotations }}
  annotations:
    {{- if $c.defaultClass }}
    storageclass.kubernetes.io/is-default-class: "true"
    {{- end }}
    {{- with $c.annotations }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  {{- end }}
provisioner: {{ .provisioner }}
reclaimPolicy: {{ default "Delete" $c.reclaimPolicy }}
volumeBindingMode: {{ default "Immediate" $c.volumeBindingMode }}
allowVolumeExpansion: {{ if hasKey $c "allowVolumeExpansion" }}{{ $c.allowVolumeExpansion }}{{ else }}false{{ end }}
{{- with $c.mountOptions }}
mountOptions:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .parameters }}
parameters:
  {{- range $k, $v := . }}
  {{ $k }}: {{ $v | toString | quote }}
  {{- end }}
{{- end }}
{{- end -}}
