{{/*
The worker queue entries with worker.defaults merged in and taskQueue resolved, as JSON
{"queues": [...]}. Fails on duplicate names, and when no worker polls the queue the API submits to
(jobs would wait forever).
*/}}
{{- define "mediaflow.workerQueues" -}}
{{- $out := list }}
{{- $seen := dict }}
{{- $pollsApiQueue := false }}
{{- range $q := .Values.worker.queues }}
{{- if hasKey $seen $q.name }}
{{- fail (printf "worker.queues: the name %q appears twice" $q.name) }}
{{- end }}
{{- $_ := set $seen $q.name true }}
{{- $merged := mergeOverwrite (deepCopy $.Values.worker.defaults) (deepCopy $q) }}
{{- $_ := set $merged "taskQueue" (default $.Values.temporal.taskQueue $q.taskQueue) }}
{{- if eq $merged.taskQueue $.Values.temporal.taskQueue }}{{ $pollsApiQueue = true }}{{ end }}
{{- $out = append $out $merged }}
{{- end }}
{{- if and (gt (len $out) 0) (not $pollsApiQueue) }}
{{- fail (printf "worker.queues: no worker polls %q, the task queue the API submits jobs to (temporal.taskQueue); give one queue an empty taskQueue" .Values.temporal.taskQueue) }}
{{- end }}
{{- dict "queues" $out | toJson }}
{{- end }}
