{{/* The release's full name, at most 63 characters (a DNS label). */}}
{{- define "sluice.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "sluice.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "sluice.labels" -}}
{{ include "sluice.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "sluice.groupId" -}}
{{- .Values.groupId | default (include "sluice.fullname" .) -}}
{{- end -}}

{{- define "sluice.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- .Values.serviceAccount.name | default (include "sluice.fullname" .) -}}
{{- else -}}
{{- .Values.serviceAccount.name | default "default" -}}
{{- end -}}
{{- end -}}

{{- define "sluice.image" -}}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) -}}
{{- end -}}

{{/* config.providers: the names of the enabled providers, comma-separated. */}}
{{- define "sluice.providerNames" -}}
{{- $names := list -}}
{{- range $name, $p := .Values.configProviders -}}
{{- if $p.enabled -}}{{- $names = append $names $name -}}{{- end -}}
{{- end -}}
{{- join "," $names -}}
{{- end -}}

{{/* worker.properties: the distributed worker's keys; workerConfig comes last and wins. */}}
{{- define "sluice.workerProperties" -}}
{{- $group := include "sluice.groupId" . -}}
bootstrap.servers={{ required "kafka.bootstrapServers is required: the Kafka brokers the workers use" .Values.kafka.bootstrapServers }}
group.id={{ $group }}
config.storage.topic={{ .Values.internalTopics.config | default (printf "%s-configs" $group) }}
offset.storage.topic={{ .Values.internalTopics.offset | default (printf "%s-offsets" $group) }}
status.storage.topic={{ .Values.internalTopics.status | default (printf "%s-status" $group) }}
config.storage.replication.factor={{ .Values.internalTopics.replicationFactor }}
offset.storage.replication.factor={{ .Values.internalTopics.replicationFactor }}
status.storage.replication.factor={{ .Values.internalTopics.replicationFactor }}
offset.storage.partitions={{ .Values.internalTopics.offsetPartitions }}
status.storage.partitions={{ .Values.internalTopics.statusPartitions }}
listeners=http://0.0.0.0:{{ .Values.service.port }}
sluice.data.dir=/tmp/sluice
task.shutdown.graceful.timeout.ms={{ .Values.taskShutdownGracefulTimeoutMs }}
{{- with include "sluice.providerNames" . }}
config.providers={{ . }}
{{- end }}
{{- if .Values.configProviders.env.enabled }}
config.providers.env.class=org.apache.kafka.common.config.provider.EnvVarConfigProvider
{{- with .Values.configProviders.env.allowlistPattern }}
config.providers.env.param.allowlist.pattern={{ . }}
{{- end }}
{{- end }}
{{- if .Values.configProviders.dir.enabled }}
config.providers.dir.class=org.apache.kafka.common.config.provider.DirectoryConfigProvider
config.providers.dir.param.allowed.paths=/opt/sluice/secrets,/opt/sluice/configmaps
{{- end }}
{{- if .Values.configProviders.file.enabled }}
config.providers.file.class=org.apache.kafka.common.config.provider.FileConfigProvider
config.providers.file.param.allowed.paths=/opt/sluice/secrets,/opt/sluice/configmaps
{{- end }}
{{- if .Values.configProviders.secrets.enabled }}
config.providers.secrets.class=io.strimzi.kafka.KubernetesSecretConfigProvider
{{- end }}
{{- if .Values.configProviders.configmaps.enabled }}
config.providers.configmaps.class=io.strimzi.kafka.KubernetesConfigMapConfigProvider
{{- end }}
{{- range $key, $value := .Values.workerConfig }}
{{ $key }}={{ $value }}
{{- end }}
{{- end -}}
