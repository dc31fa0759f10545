#!/usr/bin/env bash
# The README walkthrough against a running service (scripts/up --detach): upload the fixture model,
# quantize it to 4 bits with RTN and evaluate it, wait for the job, download the artifact, read the
# report. Exits non-zero on the first failure. Needs bash, curl and jq.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ENV_FILE="${OPTIMIZER_ENV_FILE:-$ROOT/.optimizer/run/env}"
[ -f "$ENV_FILE" ] || { echo "error: $ENV_FILE not found: run scripts/up --detach first" >&2; exit 1; }
# shellcheck disable=SC1090
source "$ENV_FILE"
: "${OPTIMIZER_URL:?missing in $ENV_FILE}" "${OPTIMIZER_API_KEY:?missing in $ENV_FILE}"
FIXTURE="${OPTIMIZER_FIXTURE_DIR:?missing in $ENV_FILE}"
OUT="${WALKTHROUGH_OUT:-$ROOT/.optimizer/walkthrough}"
TIMEOUT="${WALKTHROUGH_TIMEOUT:-900}"
mkdir -p "$OUT"

step() { printf '\n==> %s\n' "$*" >&2; }
fail() { echo "error: $*" >&2; exit 1; }

# api METHOD PATH [curl args...]: prints the response body; on a 4xx/5xx prints the problem+json and fails.
api() {
  local method="$1" path="$2" out rc=0
  shift 2
  out="$(curl -sS --fail-with-body -X "$method" -H "Authorization: Bearer $OPTIMIZER_API_KEY" "$@" "$OPTIMIZER_URL$path")" || rc=$?
  [ "$rc" = 0 ] || fail "$method $path failed (curl exit $rc): $out"
  printf '%s' "$out"
}

step "POST /v1/models: upload the fixture model from $FIXTURE/model"
form=(-F name=fixture)
for file in "$FIXTURE"/model/*; do
  [ -f "$file" ] && form+=(-F "$(basename "$file")=@$file")
done
model="$(api POST /v1/models "${form[@]}")"
model_id="$(jq -r .id <<<"$model")"
jq -r '"model \(.id): \(.architecture), \(.parameter_count) parameters, \(.size_bytes) bytes, status \(.status)"' <<<"$model" >&2

step "POST /v1/jobs: quantize/rtn, 4 bits, group size 128, evaluated on the held-out chapters"
body="$(jq -nc --arg model "$model_id" '{type: "quantize", method: "rtn", model_id: $model,
  params: {bits: 4, group_size: 128}, evaluation: {dataset_id: "ds_builtin_moby_dick_heldout"}}')"
job="$(api POST /v1/jobs -H 'Content-Type: application/json' --data "$body")"
job_id="$(jq -r .id <<<"$job")"
echo "job $job_id: $(jq -r .status <<<"$job")" >&2

step "GET /v1/jobs/$job_id until it ends"
start=$SECONDS last=""
while true; do
  job="$(api GET "/v1/jobs/$job_id")"
  status="$(jq -r .status <<<"$job")"
  line="$(jq -r '"\(.status) \(.progress.stage // "") \((.progress.fraction // 0) * 100 | floor)% \(.progress.message // "")"' <<<"$job")"
  [ "$line" = "$last" ] || { echo "  $line" >&2; last="$line"; }
  case "$status" in
    succeeded) break ;;
    failed|cancelled) fail "job $job_id $status: $(jq -c .error <<<"$job")" ;;
  esac
  [ $((SECONDS - start)) -lt "$TIMEOUT" ] || fail "job $job_id still $status after ${TIMEOUT}s"
  sleep 2
done
output_id="$(jq -r .output_model_id <<<"$job")"
report_id="$(jq -r .report_id <<<"$job")"
echo "succeeded in $((SECONDS - start))s: output model $output_id, report $report_id" >&2

step "GET /v1/models/$output_id/files/model.safetensors"
curl -sS --fail -H "Authorization: Bearer $OPTIMIZER_API_KEY" -o "$OUT/model.safetensors" \
  "$OPTIMIZER_URL/v1/models/$output_id/files/model.safetensors"
expected="$(api GET "/v1/models/$output_id" | jq -r '.files[] | select(.name == "model.safetensors") | .sha256')"
actual="$(sha256sum "$OUT/model.safetensors" | cut -d' ' -f1)"
[ -z "$expected" ] || [ "$expected" = "$actual" ] || fail "sha256 mismatch: expected $expected, downloaded $actual"
echo "downloaded $(wc -c <"$OUT/model.safetensors") bytes to $OUT/model.safetensors (sha256 $actual)" >&2

step "GET /v1/reports/$report_id"
if [ -z "$report_id" ] || [ "$report_id" = null ]; then fail "job $job_id has no report"; fi
api GET "/v1/reports/$report_id" >"$OUT/report.json"
jq -r '"verdict \(.verdict), score \(.score), \(.items_passed)/\(.items_total) items passed; perplexity \(.metrics.perplexity) vs baseline \(.metrics.baseline_perplexity)"' "$OUT/report.json"
echo "report saved to $OUT/report.json" >&2
