# Sourced by the suites that read the Apple-signed corpus (read only):
#   . tests/corpus.sh
#   if corpus_ready SUITE "what is skipped"; then ... checks ... fi
# $corpus: $MSIGN_CORPUS, else ../shared/corpus beside the repository,
# else /work/shared/corpus. corpus_ready succeeds when it holds files.
# Otherwise it prints one line naming the skipped checks and returns 1;
# under CI=true a missing corpus is a failure: it also calls the suite's
# failure function ($corpus_fail, default "no") with the reason.
if [ -n "${MSIGN_CORPUS:-}" ]; then corpus=$MSIGN_CORPUS
elif [ -d ../shared/corpus ]; then corpus=$(cd ../shared/corpus && pwd)
else corpus=/work/shared/corpus
fi
corpus_ready() { # SUITE WHAT
	if [ -d "$corpus" ] && [ -n "$(ls -A "$corpus" 2>/dev/null)" ]; then
		return 0
	fi
	if [ "${CI:-}" = true ]; then
		${corpus_fail:-no} "$1: no corpus at $corpus (CI=true needs it; set MSIGN_CORPUS): $2"
	else
		echo "$1: skipped, no corpus at $corpus (set MSIGN_CORPUS): $2"
	fi
	return 1
}
