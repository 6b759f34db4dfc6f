{{/*
The worker queue entries with worker.defaults merged in and taskQueues resolved, as JSON
{"queues": [...]}. An empty taskQueues means the three queues the API routes jobs to by input size
(<temporal.taskQueue>-high, <temporal.taskQueue>, <temporal.taskQueue>-low). Fails on duplicate
names, and when a routed queue has no worker (its jobs would wait forever).
*/}}
{{- define "mediaflow.workerQueues" -}}
{{- $base := .Values.temporal.taskQueue }}
{{- $routed := list (printf "%s-high" $base) $base (printf "%s-low" $base) }}
{{- $out := list }}
{{- $seen := dict }}
{{- $polled := dict }}
{{- range $q := .Values.worker.queues }}
{{- if hasKey $seen $q.name }}
{{- fail (printf "worker.queues: the name %q appears twice" $q.name) }}
{{- end }}
{{- $_ := set $seen $q.name true }}
{{- $merged := mergeOverwrite (deepCopy $.Values.worker.defaults) (deepCopy $q) }}
{{- $_ := set $merged "taskQueues" (default $routed $q.taskQueues) }}
{{- range $merged.taskQueues }}{{ $_ := set $polled . true }}{{ end }}
{{- $out = append $out $merged }}
{{- end }}
{{- if gt (len $out) 0 }}
{{- range $routed }}
{{- if not (hasKey $polled .) }}
{{- fail (printf "worker.queues: no worker polls %q, a task queue the API routes jobs to (temporal.taskQueue %q, by input size); list it in some queue's taskQueues or leave taskQueues empty" . $base) }}
{{- end }}
{{- end }}
{{- end }}
{{- dict "queues" $out | toJson }}
{{- end }}
