#!/usr/bin/env bash
# Build the receiver image once per code change, in Azure (ACR Tasks via `az acr build`: no Docker
# engine on the runner), and print the reference every stage deploys: <loginServer>/hookfleet/receiver@<digest>.
# The tag is the digest of the build context (npm run image:tag, the same tag `npm run up` builds):
# when the registry already holds it, nothing is built and the same manifest digest is promoted again,
# so unchanged code rolls no new revision.
#   usage: scripts/ci-build-image.sh <ARM id of the registry>
# Needs: az signed in with Contributor (ACR Tasks runs) on the registry; Node and `npm ci` done.
set -euo pipefail
acr_id="${1:?usage: scripts/ci-build-image.sh <ARM id of the registry>}"
name="${acr_id##*/}"
subscription="$(cut -d/ -f3 <<<"$acr_id")"
repository="hookfleet/receiver"
tag="$(npm run --silent image:tag)"
login_server="$(az acr show --ids "$acr_id" --query loginServer -o tsv)"
digest_of() {
  az acr repository show --name "$name" --subscription "$subscription" --image "$repository:$tag" \
    --query digest -o tsv 2>/dev/null || true
}
digest="$(digest_of)"
if [ -z "$digest" ]; then
  echo "building $repository:$tag in $name (ACR Tasks)" >&2
  az acr build --registry "$name" --subscription "$subscription" --image "$repository:$tag" \
    --file app/Dockerfile --platform linux/amd64 . >&2
  digest="$(digest_of)"
else
  echo "$repository:$tag is already in $name: not rebuilt" >&2
fi
if [ -z "$digest" ]; then
  echo "no digest for $repository:$tag in $name after the build" >&2
  exit 1
fi
echo "$login_server/$repository@$digest"
