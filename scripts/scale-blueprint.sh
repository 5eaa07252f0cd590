# shellcheck shell=bash
# scale_blueprint N [EXTRA]: a blueprint with N users (user000@example.org...), two datasets
# each, notebook.shards unset (synth chooses), and one more user EXTRA if given. Sourced by
# scripts/bench-scale.sh and scripts/lint-scale.sh.
scale_blueprint() {
    printf 'name: scale\nregion: eu-west-1\nappstream:\n  image_name: img\n'
    printf 'datasets:\n  genomics: {prefix: datasets/genomics/}\n  claims: {prefix: datasets/claims/}\nusers:\n'
    local i
    for i in $(seq -w 0 $(($1 - 1))); do
        printf '  - id: user%s@example.org\n    datasets: {genomics: read, claims: read-write}\n' "$i"
    done
    if [ -n "${2:-}" ]; then printf '  - id: %s\n    datasets: {genomics: read}\n' "$2"; fi
}
