#!/bin/sh
# The compose service `nats-secrets` (one-shot, before every NATS server and service): throwaway
# NATS credentials, nkeys, a CA with hub and leaf certificates, and the nats-server configs, all
# in the volume `nats-secrets`, never in the repository. Secrets are generated once per volume
# (`docker compose down -v` drops them) and again when a region of the list has none yet; the
# configs are rendered on every start from the region list.
#
# Layout of the volume (each container mounts only its own part, see docker-compose.yml):
#   dev/                     `nzr topology dev-secrets`: <node>.env, nats.env, tls/<node>/
#                            (node: hub or a region id)
#   nodes/<node>/nats.env    the node's server variables (hub: NZR_STATE_PASSWORD, NZR_SYS_PASSWORD,
#                            NZR_LEAF_NKEY_<REGION>; region: NZR_APP_PASSWORD, NZR_SYS_PASSWORD,
#                            NZR_LEAF_SEED), for that NATS server only
#   dev/tls/<node>/          ca.crt, tls.crt, tls.key of the leaf link (at /etc/nats/leaf-tls)
#   clients/<node>/nats.env  NATS_USER, NATS_PASSWORD for that node's services and provisioning
#   conf/                    hub.conf, leaf-<region>.conf (`nzr topology render`)
set -eu

REGIONS_FILE=${NZR_REGIONS_FILE:-/etc/nzr/regions.toml}
OUT=${NZR_SECRETS_DIR:-/secrets}
DEV=$OUT/dev
# the name the leaf nodes dial: the hub's compose service, named in its certificate
HUB_HOST=${NZR_HUB_HOST:-state-nats}
umask 077

regions=$(python -c 'import sys, tomllib
print(" ".join(r["id"] for r in tomllib.load(open(sys.argv[1], "rb"))["regions"]))' "$REGIONS_FILE")

missing() {
    for node in hub $regions; do
        for file in "$node.env" "tls/$node/ca.crt" "tls/$node/tls.crt" "tls/$node/tls.key"; do
            if [ ! -s "$DEV/$file" ]; then
                echo "$file"
                return
            fi
        done
    done
}

if [ -n "$(missing)" ]; then
    echo "nats-secrets: generating throwaway credentials and certificates for: hub $regions"
    rm -rf "$DEV"
    nzr topology dev-secrets --out "$DEV" --regions-file "$REGIONS_FILE" --hub-host "$HUB_HOST"
    if [ -n "$(missing)" ]; then
        echo "nats-secrets: dev-secrets wrote no $(missing)" >&2
        exit 1
    fi
fi

# Each NATS server gets its own variables; the services only user and password of their node.
client_env() {
    (
        set -a
        . "$DEV/$1.env"
        eval "password=\${$2}"
        umask 022
        mkdir -p "$OUT/clients/$1"
        printf 'NATS_USER=nzr\nNATS_PASSWORD=%s\n' "$password" > "$OUT/clients/$1/nats.env"
    )
}
for node in hub $regions; do
    mkdir -p "$OUT/nodes/$node"
    cp "$DEV/$node.env" "$OUT/nodes/$node/nats.env"
done
client_env hub NZR_STATE_PASSWORD
for region in $regions; do
    client_env "$region" NZR_APP_PASSWORD
done

nzr topology render --out "$OUT/conf" --regions-file "$REGIONS_FILE" \
    --hub-host "$HUB_HOST" --tls-dir /etc/nats/leaf-tls
echo "nats-secrets: ready"
