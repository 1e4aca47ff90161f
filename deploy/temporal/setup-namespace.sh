#!/bin/sh
# One-shot (service temporal-setup): once the Temporal server answers, creates Switchyard's
# namespace and registers the search attributes Switchyard queries sessions by. The embedded
# dev server gets the same through `--search-attribute` flags (supervisor/temporal-dev-server.ts);
# the list below is checked against contracts/names.ts by test/deploy-files.test.ts.
# Idempotent: what exists is left alone.
set -eu

: "${TEMPORAL_ADDRESS:?}"
NAMESPACE="${SWITCHYARD_NAMESPACE:-default}"
RETENTION="${NAMESPACE_RETENTION:-30d}"
SEARCH_ATTRIBUTES="SwitchyardAgent SwitchyardSessionKey SwitchyardChannel SwitchyardState"

echo "waiting for Temporal at $TEMPORAL_ADDRESS"
tries=0
until temporal operator cluster health --address "$TEMPORAL_ADDRESS" >/dev/null 2>&1; do
  tries=$((tries + 1))
  if [ "$tries" -ge 120 ]; then echo "Temporal did not become healthy"; exit 1; fi
  sleep 2
done

if temporal operator namespace describe --address "$TEMPORAL_ADDRESS" --namespace "$NAMESPACE" >/dev/null 2>&1; then
  echo "namespace $NAMESPACE exists"
else
  temporal operator namespace create --address "$TEMPORAL_ADDRESS" --namespace "$NAMESPACE" --retention "$RETENTION"
fi

# A namespace just created takes a moment to reach every frontend's cache.
tries=0
until existing="$(temporal operator search-attribute list --address "$TEMPORAL_ADDRESS" --namespace "$NAMESPACE" 2>/dev/null)"; do
  tries=$((tries + 1))
  if [ "$tries" -ge 60 ]; then echo "namespace $NAMESPACE did not become usable"; exit 1; fi
  sleep 1
done
for name in $SEARCH_ATTRIBUTES; do
  if printf '%s\n' "$existing" | grep -qw "$name"; then
    echo "search attribute $name exists"
  else
    temporal operator search-attribute create --address "$TEMPORAL_ADDRESS" --namespace "$NAMESPACE" --name "$name" --type Keyword
  fi
done
echo "namespace $NAMESPACE is ready for Switchyard"
