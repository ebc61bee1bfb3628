#!/bin/sh
# The compose service `nats-secrets` (one-shot, before every NATS server and service): throwaway
# NATS credentials, nkeys, a CA with hub and leaf certificates, and the nats-server configs, all
# in the volume `nats-secrets`, never in the repository. Secrets are generated once per volume
# (`docker compose down -v` drops them); the configs are rendered on every start from the
# region list, so a region added to it gets its secrets and configs on the next `up`.
#
# Layout of the volume (each container mounts only its own part, see docker-compose.yml):
#   <node>/nats.env        the node's server variables: hub: NZR_STATE_PASSWORD, NZR_SYS_PASSWORD,
#                          NZR_LEAF_NKEY_<REGION>; region: NZR_APP_PASSWORD, NZR_SYS_PASSWORD,
#                          NZR_LEAF_SEED            (node: hub or a region id)
#   <node>/tls/            ca.crt, tls.crt, tls.key of the leaf link (mounted at /etc/nats/leaf-tls)
#   clients/<node>/nats.env  NATS_USER, NATS_PASSWORD for that node's services and provisioning
#   conf/                  hub.conf, leaf-<region>.conf (`nzr topology render`)
set -eu

REGIONS_FILE=/etc/nzr/regions.toml
OUT=/secrets
umask 077

regions=$(python -c 'import sys, tomllib
print(" ".join(r["id"] for r in tomllib.load(open(sys.argv[1], "rb"))["regions"]))' "$REGIONS_FILE")

complete=yes
for node in hub $regions; do
    for file in nats.env tls/ca.crt tls/tls.crt tls/tls.key; do
        [ -s "$OUT/$node/$file" ] || complete=no
    done
done

if [ "$complete" = no ]; then
    echo "nats-secrets: generating throwaway credentials and certificates for: hub $regions"
    nzr topology dev-secrets --out "$OUT" --regions-file "$REGIONS_FILE"
    for node in hub $regions; do
        for file in nats.env tls/ca.crt tls/tls.crt tls/tls.key; do
            if [ ! -s "$OUT/$node/$file" ]; then
                echo "nats-secrets: dev-secrets wrote no $node/$file (layout: deploy/compose/nats-secrets.sh)" >&2
                exit 1
            fi
        done
    done
fi

# The services' credentials: only user and password of their own node.
client_env() {
    (
        set -a
        . "$OUT/$1/nats.env"
        eval "password=\${$2}"
        umask 022
        mkdir -p "$OUT/clients/$1"
        printf 'NATS_USER=nzr\nNATS_PASSWORD=%s\n' "$password" > "$OUT/clients/$1/nats.env"
    )
}
client_env hub NZR_STATE_PASSWORD
for region in $regions; do
    client_env "$region" NZR_APP_PASSWORD
done

# The leaf nodes dial the hub as nats-hub (a network alias of state-nats; the name in the hub's
# certificate); each node finds its own certificates at /etc/nats/leaf-tls.
nzr topology render --out "$OUT/conf" --regions-file "$REGIONS_FILE" \
    --hub-host nats-hub --tls-dir /etc/nats/leaf-tls
chmod -R go+rX "$OUT/conf"
echo "nats-secrets: ready"
