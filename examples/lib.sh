#!/usr/bin/env bash
# Helpers of the example scripts (sourced): calls to the Optimizer API with curl, and waiting for a job.
# Needs OPTIMIZER_URL and OPTIMIZER_API_KEY; bash, curl and jq.

fail() { echo "error: $*" >&2; exit "${FAIL_CODE:-1}"; }

# load_env [FILE]: when OPTIMIZER_URL is not set, reads what `scripts/up --detach` wrote (.optimizer/run/env).
load_env() {
  local file="${1:-${OPTIMIZER_ENV_FILE:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/.optimizer/run/env}}"
  if [ -z "${OPTIMIZER_URL:-}" ]; then
    [ -f "$file" ] || fail "set OPTIMIZER_URL and OPTIMIZER_API_KEY, or run scripts/up --detach (it writes $file)"
    # shellcheck disable=SC1090
    source "$file"
  fi
  : "${OPTIMIZER_URL:?OPTIMIZER_URL is not set}" "${OPTIMIZER_API_KEY:?OPTIMIZER_API_KEY is not set}"
}

# api METHOD PATH [curl args...]: prints the response body; on a 4xx/5xx prints the problem+json and fails.
api() {
  local method="$1" path="$2" out rc=0
  shift 2
  out="$(curl -sS --fail-with-body -X "$method" -H "Authorization: Bearer $OPTIMIZER_API_KEY" "$@" "$OPTIMIZER_URL$path")" || rc=$?
  [ "$rc" = 0 ] || fail "$method $path failed (curl exit $rc): $out"
  printf '%s' "$out"
}

# upload_model DIR NAME: uploads a Hugging Face model folder (one multipart part per file); prints the model.
upload_model() {
  local dir="$1" name="$2" file form=(-F "name=$2")
  for file in "$dir"/*; do
    [ -f "$file" ] && form+=(-F "$(basename "$file")=@$file")
  done
  api POST /v1/models "${form[@]}"
}

# wait_job JOB_ID TIMEOUT_SECONDS: polls until the job ends, printing progress changes on stderr; prints the
# final job. Returns 1 when it failed or was cancelled, 2 on timeout.
wait_job() {
  local id="$1" timeout="$2" start=$SECONDS last="" job status line
  while true; do
    job="$(api GET "/v1/jobs/$id")"
    status="$(jq -r .status <<<"$job")"
    line="$(jq -r '"\(.status) \(.progress.stage // "") \((.progress.fraction // 0) * 100 | floor)% \(.progress.message // "")"' <<<"$job")"
    [ "$line" = "$last" ] || { echo "  $line" >&2; last="$line"; }
    case "$status" in
      succeeded) printf '%s' "$job"; return 0 ;;
      failed|cancelled) printf '%s' "$job"; return 1 ;;
    esac
    if [ $((SECONDS - start)) -ge "$timeout" ]; then printf '%s' "$job"; return 2; fi
    sleep 2
  done
}
