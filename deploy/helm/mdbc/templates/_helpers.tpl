{{/* Names, labels and the mdbc.toml this release's containers read. */}}

{{- define "mdbc.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* <release>-<chart>, or fullnameOverride; release names that already hold the chart's name are kept. */}}
{{- define "mdbc.fullname" -}}
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

{{- define "mdbc.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/name: {{ include "mdbc.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: onap-so
mdbc.onap.org/site: {{ include "mdbc.site" . }}
{{- end -}}

{{- define "mdbc.agentSelector" -}}
app.kubernetes.io/name: {{ include "mdbc.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: agent
{{- end -}}

{{- define "mdbc.proxySelector" -}}
app.kubernetes.io/name: {{ include "mdbc.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: proxy
{{- end -}}

{{- define "mdbc.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}

{{- define "mdbc.configSecret" -}}
{{- default (printf "%s-config" (include "mdbc.fullname" .)) .Values.config.existingSecret -}}
{{- end -}}

{{/* This release's site, checked against `sites`. */}}
{{- define "mdbc.site" -}}
{{- $site := required "set `site` to this release's site (one of the keys of `sites`)" .Values.site -}}
{{- if not (hasKey .Values.sites $site) -}}
{{- fail (printf "site %q is not one of the configured sites (%s)" $site (keys .Values.sites | sortAlpha | join ", ")) -}}
{{- end -}}
{{- if not (regexMatch "^[A-Za-z][A-Za-z0-9_]{0,47}$" $site) -}}
{{- fail (printf "site name %q: use a letter, then letters, digits or '_' (at most 48)" $site) -}}
{{- end -}}
{{- $site -}}
{{- end -}}

{{/* The Cassandra data centre of a site (a dict with "root" and "name"). */}}
{{- define "mdbc.datacenter" -}}
{{- $s := index .root.Values.sites .name -}}
{{- default .name $s.datacenter -}}
{{- end -}}

{{/*
The whole mdbc.toml (mdbc_py/config.py reads it). Strings are written as JSON
strings, which are valid TOML basic strings, so no value can break the file.
*/}}
{{/*
A [....tls] table of mdbc.toml for `dict "root" $ "link" .Values.tls.mariadb`.
*/}}
{{- define "mdbc.tlsTable" -}}
{{- $dir := .root.Values.tls.mountPath -}}
{{- with .link.ca }}
ca = {{ printf "%s/%s" $dir . | toJson }}
{{- end }}
{{- with .link.cert }}
cert = {{ printf "%s/%s" $dir . | toJson }}
{{- end }}
{{- with .link.key }}
key = {{ printf "%s/%s" $dir . | toJson }}
{{- end }}
check_hostname = {{ ternary "true" "false" (ne .link.checkHostname false) }}
{{- end -}}

{{/* Is any TLS of the chart on (the Secret is then mounted)? Fails without tls.secretName. */}}
{{- define "mdbc.tlsMounted" -}}
{{- $t := .Values.tls -}}
{{- if or $t.mariadb.enabled $t.store.enabled (and .Values.proxy.enabled $t.proxy.enabled) -}}
{{- $_ := required "tls.secretName is required with tls.mariadb, tls.store or tls.proxy enabled: the Secret holding the PEM files" $t.secretName -}}
true
{{- end -}}
{{- end -}}

{{- define "mdbc.tlsMount" -}}
{{- if include "mdbc.tlsMounted" . }}
- name: tls
  mountPath: {{ .Values.tls.mountPath }}
  readOnly: true
{{- end }}
{{- end -}}

{{- define "mdbc.tlsVolume" -}}
{{- if include "mdbc.tlsMounted" . }}
- name: tls
  secret:
    secretName: {{ .Values.tls.secretName }}
    defaultMode: 0400
{{- end }}
{{- end -}}

{{- define "mdbc.toml" -}}
{{- $root := . -}}
{{- $site := include "mdbc.site" . -}}
{{- $store := .Values.store -}}
{{- $points := default $store.contactPoints (index .Values.sites $site).storeContactPoints -}}
{{- if not $points -}}
{{- fail (printf "no Cassandra contact points: set sites.%s.storeContactPoints or store.contactPoints" $site) -}}
{{- end -}}
{{- if not .Values.ranges -}}
{{- fail "ranges is empty: configure the ranges (catalogdb, camundabpmn, requestdb for SO)" -}}
{{- end -}}
{{- range $kind, $names := dict "site" (keys .Values.sites) "range" (keys .Values.ranges) -}}
{{- range $names -}}
{{- if not (regexMatch "^[A-Za-z][A-Za-z0-9_]{0,47}$" .) -}}
{{- fail (printf "%s name %q: use a letter, then letters, digits or '_' (at most 48)" $kind .) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- range $name, $r := .Values.ranges -}}
{{- if and $r.initialOwner (not (hasKey $root.Values.sites $r.initialOwner)) -}}
{{- fail (printf "ranges.%s.initialOwner %q is not one of the configured sites" $name $r.initialOwner) -}}
{{- end -}}
{{- end -}}
# mdbc.toml of site {{ $site }}, rendered by the mdbc chart ({{ .Release.Name }}).
mode = {{ .Values.mode | toJson }}
local_site = {{ $site | toJson }}

[store]
backend = "cassandra"
contact_points = {{ $points | toJson }}
port = {{ int $store.port }}
keyspace = {{ $store.keyspace | toJson }}
replication = { class = "NetworkTopologyStrategy"
{{- range $name := keys .Values.sites | sortAlpha -}}
{{- $dc := include "mdbc.datacenter" (dict "root" $root "name" $name) -}}
, {{ $dc | toJson }} = {{ int $store.replicationFactor }}
{{- end }} }
local_dc = {{ default (include "mdbc.datacenter" (dict "root" $root "name" $site)) $store.localDC | toJson }}
{{- if $store.username }}
username = {{ $store.username | toJson }}
password = {{ required "secrets.storePassword is required with store.username" .Values.secrets.storePassword | toJson }}
{{- end }}
{{- if .Values.tls.store.enabled }}

[store.tls]
{{- include "mdbc.tlsTable" (dict "root" $root "link" .Values.tls.store) }}
{{- end }}
{{- range $name := keys .Values.sites | sortAlpha }}
{{- $s := index $root.Values.sites $name }}

[sites.{{ $name }}]
host = {{ required (printf "sites.%s.host is required" $name) $s.host | toJson }}
port = {{ int (default 3306 $s.port) }}
user = {{ default "mdbc" $s.user | toJson }}
password = {{ required (printf "secrets.sitePasswords.%s is required (or use config.existingSecret)" $name) (index $root.Values.secrets.sitePasswords $name) | toJson }}
priority = {{ if hasKey $s "priority" }}{{ int $s.priority }}{{ else }}100{{ end }}
nofailover = {{ default false $s.nofailover }}
{{- if $root.Values.tls.mariadb.enabled }}

[sites.{{ $name }}.tls]
{{- include "mdbc.tlsTable" (dict "root" $root "link" $root.Values.tls.mariadb) }}
{{- end }}
{{- end }}
{{- range $name := keys .Values.ranges | sortAlpha }}
{{- $r := index $root.Values.ranges $name }}

[ranges.{{ $name }}]
database = {{ default $name $r.database | toJson }}
{{- if $r.tables }}
tables = {{ $r.tables | toJson }}
{{- end }}
{{- if $r.initialOwner }}
initial_owner = {{ $r.initialOwner | toJson }}
{{- end }}
{{- end }}
{{- end -}}
