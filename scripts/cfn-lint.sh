#!/usr/bin/env bash
# cfn-lint on every template the last `cdk synth` wrote. Warnings fail too (cfn-lint exits non-zero):
# each one is either fixed or suppressed on its resource with a reason (see lib/chat-function.ts).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v cfn-lint >/dev/null 2>&1; then
  echo "cfn-lint not found (Python 3.8+): pip install 'cfn-lint==1.51.*'" >&2
  exit 1
fi
shopt -s nullglob
templates=(cdk.out/*.template.json)
if [ ${#templates[@]} -eq 0 ]; then
  echo "No template in cdk.out/: run npx cdk synth first" >&2
  exit 1
fi
cfn-lint "${templates[@]}"
echo "cfn-lint: ${#templates[@]} template(s), no finding"
