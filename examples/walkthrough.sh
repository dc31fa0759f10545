#!/usr/bin/env bash
# The README walkthrough against a running service (scripts/up --detach): upload the fixture model,
# quantize it to 4 bits with RTN and evaluate it, wait for the job, download the artifact, read the
# report. Exits non-zero on the first failure. Needs bash, curl and jq.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=lib.sh
source "$ROOT/examples/lib.sh"
load_env "${OPTIMIZER_ENV_FILE:-$ROOT/.optimizer/run/env}"
FIXTURE="${OPTIMIZER_FIXTURE_DIR:?OPTIMIZER_FIXTURE_DIR is not set (scripts/up writes it to its env file)}"
OUT="${WALKTHROUGH_OUT:-$ROOT/.optimizer/walkthrough}"
TIMEOUT="${WALKTHROUGH_TIMEOUT:-900}"
mkdir -p "$OUT"

step() { printf '\n==> %s\n' "$*" >&2; }

step "POST /v1/models: upload the fixture model from $FIXTURE/model"
model="$(upload_model "$FIXTURE/model" fixture)"
model_id="$(jq -r .id <<<"$model")"
jq -r '"model \(.id): \(.architecture), \(.parameter_count) parameters, \(.size_bytes) bytes, status \(.status)"' <<<"$model" >&2

step "POST /v1/jobs: quantize/rtn, 4 bits, group size 128, evaluated on the held-out chapters"
body="$(jq -nc --arg model "$model_id" '{type: "quantize", method: "rtn", model_id: $model,
  params: {bits: 4, group_size: 128}, evaluation: {dataset_id: "ds_builtin_moby_dick_heldout"}}')"
job="$(api POST /v1/jobs -H 'Content-Type: application/json' --data "$body")"
job_id="$(jq -r .id <<<"$job")"
echo "job $job_id: $(jq -r .status <<<"$job")" >&2

step "GET /v1/jobs/$job_id until it ends"
start=$SECONDS
job="$(wait_job "$job_id" "$TIMEOUT")" || fail "job $job_id ended $(jq -r .status <<<"$job"): $(jq -c .error <<<"$job")"
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
