#!/usr/bin/env bash
# Commit what the daily run recorded (payments, messages, tasks, imports, archived exports) as the
# bot, and push; if another commit got there first, rebase onto it and try again. The records
# files merge by keeping both sides (.gitattributes), so a rebase never loses an entry.
set -euo pipefail
git config user.name "notifier[bot]"
git config user.email "41898282+github-actions[bot]@users.noreply.github.com"
# Never a temporary file a killed run left half-written (notifier removes them on its next run).
git add --all -- data ':(exclude,glob)data/**/.*.tmp'
if git diff --cached --quiet; then
    echo "Nothing new to record."
    exit 0
fi
git commit --quiet -m "Record of the daily run on $(date -u +%Y-%m-%d)"
for attempt in 1 2 3 4 5; do
    if git push --quiet; then
        echo "Recorded and pushed."
        exit 0
    fi
    echo "The push raced another commit; rebasing (attempt $attempt)."
    sleep $((attempt * 3))
    git pull --rebase --quiet
done
echo "Could not push the record after 5 attempts." >&2
exit 1
