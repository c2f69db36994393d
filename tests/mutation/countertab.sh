#!/bin/bash
# tests/mutation/countertab.sh - mutation check of lib/base/countertab.c: each
# mutant (eviction branch deleted, old key left in the index, no inherited
# weight, LRU instead of Space-Saving, deletion without backward shift)
# must make test_countertab or test_bounce fail or hang. Builds in a
# scratch directory; the tree is left untouched. Exit 1 if a mutant lives.
set -u
cd "$(dirname "$0")/../.." || exit 1
scratch=$(mktemp -d /tmp/rg-mutant.XXXXXX)
trap 'rm -rf "$scratch"' EXIT
cp -r Makefile lib audit milter tests "$scratch"/
live=0
mutate() {	# name, python-literal old, new
	local name=$1
	python3 - "$scratch" "$2" "$3" <<'PY'
import sys
d, a, b = sys.argv[1:]
s = open('lib/base/countertab.c').read()
if a not in s: sys.exit(1)
open(d + '/lib/base/countertab.c', 'w').write(s.replace(a, b, 1))
PY
	[ $? -eq 0 ] || { echo "not ok - $name: pattern not found"; live=1; return; }
	if ! make -s -C "$scratch" BUILD=build CFLAGS=-Wno-error build/tests/test_countertab \
	    build/tests/test_bounce >/dev/null 2>&1; then
		echo "not ok - $name: mutant does not build"; live=1; return
	fi
	if timeout 60 "$scratch"/build/tests/test_countertab >/dev/null 2>&1 &&
	    timeout 60 "$scratch"/build/tests/test_bounce >/dev/null 2>&1; then
		echo "not ok - $name: mutant survives"; live=1
	else
		echo "ok - $name: killed"
	fi
}
echo "1..5"
mutate "eviction branch deleted" '	slot = t->heap[0];
	*inherited = t->weight[slot];
	index_delete(t, probe(t, key_at(t, slot), strlen(key_at(t, slot)),
	    t->hash[slot]));
	t->evictions++;
	return slot;' '	return 0;'
mutate "evicted key left in the index" '	index_delete(t, probe(t, key_at(t, slot), strlen(key_at(t, slot)),
	    t->hash[slot]));' ''
mutate "no inherited weight" '	*inherited = t->weight[slot];' ''
mutate "LRU instead of smallest weight" '	if (t->weight[a] != t->weight[b])
		return t->weight[a] < t->weight[b];' ''
mutate "deletion without backward shift" '		t->index[i] = t->index[j];
		t->index[j] = 0;
		i = j;' '		return;'
exit $live
