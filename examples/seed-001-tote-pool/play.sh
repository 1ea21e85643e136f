#!/bin/sh
# Registers the two schemas, then POSTs the bets (two batches) and the odds to the REST proxy by
# value_schema_id, as the original post_bets.sh does; finally creates the JDBC sink.
set -eu
cd "$(dirname "$0")"
REGISTRY=${REGISTRY:-http://127.0.0.1:8081}
PROXY=${PROXY:-http://127.0.0.1:8082}
CONNECT=${CONNECT:-http://127.0.0.1:8083}

register() { # subject file → id
  node -e 'process.stdout.write(JSON.stringify({schema: require("fs").readFileSync(process.argv[1], "utf8")}))' "$2" |
    curl -sf -X POST -H 'Content-Type: application/vnd.schemaregistry.v1+json' --data-binary @- "$REGISTRY/subjects/$1/versions" |
    node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>process.stdout.write(String(JSON.parse(s).id)))'
}
post() { # topic id file
  node -e 'const b=JSON.parse(require("fs").readFileSync(process.argv[2],"utf8"));b.value_schema_id=Number(process.argv[1]);process.stdout.write(JSON.stringify(b))' "$2" "$3" |
    curl -sf -X POST -H 'Content-Type: application/vnd.kafka.avro.v2+json' --data-binary @- "$PROXY/topics/$1"
  echo
}

BETS_ID=$(register tote_win_bets-value schemas/tote_win_bets.avsc)
ODDS_ID=$(register tote_race_runners_odds-value schemas/tote_race_runners_odds.avsc)
post tote_win_bets "$BETS_ID" bets-batch-1.json
post tote_win_bets "$BETS_ID" bets-batch-2.json
post tote_race_runners_odds "$ODDS_ID" odds.json
curl -sf -X POST -H 'Content-Type: application/json' --data-binary @connect-jdbc-sink.json "$CONNECT/connectors"
echo
