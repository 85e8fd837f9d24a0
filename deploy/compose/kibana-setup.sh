#!/bin/sh
# One-shot (compose `kibana-setup`): creates the Kibana data views for the enriched index through
# Kibana's data views API and makes the first one the default. Idempotent: existing views are kept.
set -eu
KIBANA_URL=${KIBANA_URL:-http://kibana:5601}
INDEX=${ELASTICSEARCH_INDEX:-news-articles}

i=0
until curl -fsS "$KIBANA_URL/api/status" 2>/dev/null | grep -q '"level":"available"'; do
  i=$((i + 1))
  [ "$i" -le 60 ] || { echo "kibana-setup: Kibana not available at $KIBANA_URL" >&2; exit 1; }
  sleep 5
done

# $1 id, $2 display name, $3 time field
data_view() {
  code=$(curl -sS -o /dev/null -w '%{http_code}' "$KIBANA_URL/api/data_views/data_view/$1")
  if [ "$code" = 200 ]; then
    echo "kibana-setup: data view $1 exists"
    return 0
  fi
  curl -fsS -X POST "$KIBANA_URL/api/data_views/data_view" \
    -H 'kbn-xsrf: true' -H 'Content-Type: application/json' \
    -d "{\"data_view\":{\"id\":\"$1\",\"name\":\"$2\",\"title\":\"$INDEX*\",\"timeFieldName\":\"$3\"}}" >/dev/null
  echo "kibana-setup: created data view $1 ($INDEX*, time field $3)"
}

# Processing time first: freshly enriched articles show up in Discover's default "last 15 minutes".
data_view news-articles-enriched "News articles (enriched)" enrichment.processed_at
data_view news-articles-published "News articles (by publication date)" published_at
curl -fsS -X POST "$KIBANA_URL/api/data_views/default" \
  -H 'kbn-xsrf: true' -H 'Content-Type: application/json' \
  -d '{"data_view_id":"news-articles-enriched","force":true}' >/dev/null
echo "kibana-setup: done — Discover → News articles (enriched)"
