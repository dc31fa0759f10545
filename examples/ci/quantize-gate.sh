#!/usr/bin/env bash
# CI gate: quantize a model with evaluation, wait for the job, and pass or fail on the report's verdict.
# Exit 0: verdict pass; 1: verdict fail (the report's failed items are printed); 2: the job failed, was cancelled or
# timed out, or the call was wrong. Writes job.json, report.json and report.html to GATE_OUT for the CI artifacts.
#
# Environment (CI secrets for the first two):
#   OPTIMIZER_URL, OPTIMIZER_API_KEY   the service and a tenant key (else read from scripts/up's env file)
#   GATE_MODEL_ID | GATE_MODEL_DIR     an uploaded model's id, or a Hugging Face folder to upload
#   GATE_METHOD (rtn)  GATE_PARAMS ({"bits":4,"group_size":128})  GATE_DATASET (ds_builtin_moby_dick_heldout)
#   GATE_RUBRIC ({})   e.g. {"max_perplexity_increase":0.02}: stricter or looser thresholds than the defaults
#   GATE_MAX_TOKENS (whole dataset)  GATE_TIMEOUT (3600 s)  GATE_OUT (./optimizer-gate)
#   GATE_IDEMPOTENCY_KEY               default gate-$GITHUB_RUN_ID-$GITHUB_RUN_ATTEMPT: a re-run step reuses its job
set -euo pipefail
FAIL_CODE=2
# shellcheck source=../lib.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/lib.sh"
load_env

METHOD="${GATE_METHOD:-rtn}"
PARAMS="${GATE_PARAMS:-{\"bits\":4,\"group_size\":128\}}"
DATASET="${GATE_DATASET:-ds_builtin_moby_dick_heldout}"
RUBRIC="${GATE_RUBRIC:-{\}}"
OUT="${GATE_OUT:-./optimizer-gate}"
TIMEOUT="${GATE_TIMEOUT:-3600}"
KEY="${GATE_IDEMPOTENCY_KEY:-${GITHUB_RUN_ID:+gate-$GITHUB_RUN_ID-${GITHUB_RUN_ATTEMPT:-1}}}"
mkdir -p "$OUT"

model_id="${GATE_MODEL_ID:-}"
if [ -z "$model_id" ]; then
  [ -d "${GATE_MODEL_DIR:-}" ] || fail "set GATE_MODEL_ID or GATE_MODEL_DIR (a Hugging Face model folder)"
  model_id="$(upload_model "$GATE_MODEL_DIR" "gate-$(basename "$GATE_MODEL_DIR")" | jq -r .id)"
  echo "uploaded $GATE_MODEL_DIR as $model_id" >&2
fi

body="$(jq -nc --arg model "$model_id" --arg method "$METHOD" --argjson params "$PARAMS" --arg dataset "$DATASET" \
  --argjson rubric "$RUBRIC" --arg max "${GATE_MAX_TOKENS:-}" --arg name "gate-${GITHUB_SHA:-local}" \
  '{type: "quantize", method: $method, model_id: $model, params: $params, name: $name,
    evaluation: ({dataset_id: $dataset, rubric: $rubric} + (if $max == "" then {} else {max_tokens: ($max | tonumber)} end))}')"
headers=(-H 'Content-Type: application/json')
[ -z "$KEY" ] || headers+=(-H "Idempotency-Key: $KEY")
job_id="$(api POST /v1/jobs "${headers[@]}" --data "$body" | jq -r .id)"
echo "job $job_id: quantize/$METHOD $PARAMS on $model_id, rubric $RUBRIC" >&2

rc=0
job="$(wait_job "$job_id" "$TIMEOUT")" || rc=$?
printf '%s\n' "$job" >"$OUT/job.json"
case "$rc" in
  0) ;;
  2) fail "job $job_id is still $(jq -r .status <<<"$job") after ${TIMEOUT}s" ;;
  *) fail "job $job_id ended $(jq -r .status <<<"$job"): $(jq -c .error <<<"$job")" ;;
esac
report_id="$(jq -r '.report_id // empty' <<<"$job")"
[ -n "$report_id" ] || fail "job $job_id has no report"
api GET "/v1/reports/$report_id" >"$OUT/report.json"
api GET "/v1/reports/$report_id" -H 'Accept: text/html' >"$OUT/report.html"

verdict="$(jq -r .verdict "$OUT/report.json")"
summary="$(jq -r '"verdict \(.verdict): score \(.score), \(.items_passed)/\(.items_total) items; perplexity \(.metrics.perplexity) vs baseline \(.metrics.baseline_perplexity)"' "$OUT/report.json")"
echo "$summary"
# Each failed top-level question with its evidence, and how many finer questions under it failed too.
jq -r '.items[] | select(.answer == false)
  | "  no: \(.question) \(.evidence | tojson)"
    + ([recurse(.children[]?) | select(.answer == false)] | length - 1 | if . > 0 then " (\(.) finer questions failed)" else "" end)' \
  "$OUT/report.json"
if [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then echo "Optimizer gate ($job_id): $summary" >>"$GITHUB_STEP_SUMMARY"; fi
if [ -n "${GITHUB_OUTPUT:-}" ]; then
  { echo "verdict=$verdict"; echo "output_model_id=$(jq -r .output_model_id <<<"$job")"; echo "report_id=$report_id"; } >>"$GITHUB_OUTPUT"
fi
[ "$verdict" = pass ] || exit 1
