# Registers mediaflow's custom search attributes in $TEMPORAL_NAMESPACE (Helm post-install/post-upgrade
# hook, temporalio/admin-tools image). Idempotent: an attribute that already exists with the same type
# is fine; one that exists with another type is an error an operator must resolve.
# One call per attribute: `--type` applies to every `--name` of a single call.
set -u

set -- --address "$TEMPORAL_ADDRESS" --namespace "$TEMPORAL_NAMESPACE"
if [ "${TEMPORAL_TLS:-false}" = "true" ]; then set -- "$@" --tls; fi
if [ -n "${TEMPORAL_TLS_CA_PATH:-}" ]; then set -- "$@" --tls-ca-path "$TEMPORAL_TLS_CA_PATH"; fi
if [ -n "${TEMPORAL_TLS_CERT_PATH:-}" ]; then
  set -- "$@" --tls-cert-path "$TEMPORAL_TLS_CERT_PATH" --tls-key-path "$TEMPORAL_TLS_KEY_PATH"
fi
if [ -n "${TEMPORAL_API_KEY:-}" ]; then set -- "$@" --api-key "$TEMPORAL_API_KEY"; fi

attempts="${REGISTER_ATTEMPTS:-12}"
delay="${REGISTER_RETRY_SECONDS:-5}"

register() {
  name="$1"
  type="$2"
  shift 2
  attempt=1
  while :; do
    if out="$(temporal operator search-attribute create "$@" --name "$name" --type "$type" 2>&1)"; then
      echo "search attribute $name ($type): registered"
      return 0
    fi
    case "$out" in
      *"different type"*)
        echo "search attribute $name exists with another type than $type: $out" >&2
        return 1
        ;;
      *"already exists"* | *AlreadyExists*)
        echo "search attribute $name ($type): already registered"
        return 0
        ;;
    esac
    if [ "$attempt" -ge "$attempts" ]; then
      echo "search attribute $name ($type): giving up after $attempt attempts: $out" >&2
      return 1
    fi
    echo "search attribute $name ($type): attempt $attempt failed, retrying in ${delay}s: $out" >&2
    attempt=$((attempt + 1))
    sleep "$delay"
  done
}

register MediaflowOrganizationId Keyword "$@" &&
  register MediaflowJobStatus Keyword "$@" &&
  register MediaflowActionIds KeywordList "$@" &&
  register MediaflowMediaType Keyword "$@" &&
  echo "search attributes ready in namespace $TEMPORAL_NAMESPACE"
