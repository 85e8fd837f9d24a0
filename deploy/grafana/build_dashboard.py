#!/usr/bin/env python3
"""Writes deploy/grafana/news-enricher.json, the Grafana dashboard of the service's metrics.

    python3 deploy/grafana/build_dashboard.py            # rewrite the JSON
    python3 deploy/grafana/build_dashboard.py --check    # exit 1 if the JSON is stale

The metric prefix is read from the service's code (src/pipeline/metrics.ts registers
`<prefix>messages_in_total`), so a rename there is one rerun away. scripts/validate-deploy.sh
runs --check and also checks every metric the dashboard queries against the names the code
registers. Standard library only.
"""
import json
import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
OUT = ROOT / "deploy" / "grafana" / "news-enricher.json"


def metric_prefix():
    for path in sorted((ROOT / "src").rglob("*.ts")):
        m = re.search(r"name:\s*'([a-z_:]*?)messages_in_total'", path.read_text(encoding="utf-8"))
        if m:
            return m.group(1)
    sys.exit("build_dashboard: no '<prefix>messages_in_total' metric registered under src/")


P = metric_prefix()
SEL = 'namespace=~"$namespace", pod=~"$pod"'
DS = {"type": "prometheus", "uid": "${datasource}"}


def m(name, extra=""):
    """A selector for one of the service's metrics, with the dashboard's filters."""
    return f"{P}{name}{{{SEL}{', ' + extra if extra else ''}}}"


def q(name, extra=""):
    return f"{name}{{{SEL}{', ' + extra if extra else ''}}}"


class Layout:
    def __init__(self):
        self.panels, self.y, self.x, self.row_h, self.next_id = [], 0, 0, 0, 1

    def _id(self):
        self.next_id += 1
        return self.next_id - 1

    def row(self, title):
        self.newline()
        self.panels.append({"type": "row", "title": title, "id": self._id(), "collapsed": False, "gridPos": {"h": 1, "w": 24, "x": 0, "y": self.y}, "panels": []})
        self.y += 1

    def newline(self):
        if self.x:
            self.y += self.row_h
            self.x, self.row_h = 0, 0

    def add(self, panel, w, h):
        if self.x + w > 24:
            self.newline()
        panel["id"] = self._id()
        panel["gridPos"] = {"h": h, "w": w, "x": self.x, "y": self.y}
        panel["datasource"] = DS
        self.panels.append(panel)
        self.x += w
        self.row_h = max(self.row_h, h)


def targets(*exprs):
    return [{"refId": chr(65 + i), "datasource": DS, "expr": e, "legendFormat": lf, "range": True} for i, (e, lf) in enumerate(exprs)]


def stat(title, expr, unit="short", desc="", thresholds=None, decimals=None):
    p = {
        "type": "stat",
        "title": title,
        "description": desc,
        "targets": targets((expr, "")),
        "options": {"reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False}, "colorMode": "value", "graphMode": "area", "textMode": "auto"},
        "fieldConfig": {"defaults": {"unit": unit, "thresholds": {"mode": "absolute", "steps": thresholds or [{"color": "green", "value": None}]}}, "overrides": []},
    }
    if decimals is not None:
        p["fieldConfig"]["defaults"]["decimals"] = decimals
    return p


def ts(title, *exprs, unit="short", desc="", stack=False):
    return {
        "type": "timeseries",
        "title": title,
        "description": desc,
        "targets": targets(*exprs),
        "options": {"legend": {"displayMode": "list", "placement": "bottom"}, "tooltip": {"mode": "multi", "sort": "desc"}},
        "fieldConfig": {
            "defaults": {"unit": unit, "custom": {"drawStyle": "line", "lineWidth": 1, "fillOpacity": 10, "showPoints": "never", "stacking": {"mode": "normal" if stack else "none"}}},
            "overrides": [],
        },
    }


def quantiles(name, by="le"):
    return [(f"histogram_quantile({qq}, sum by ({by}) (rate({m(name + '_bucket')}[$__rate_interval])))", f"p{int(qq * 100)}") for qq in (0.5, 0.95, 0.99)]


def build():
    L = Layout()
    L.row("Throughput and lag")
    L.add(stat("Consumed /s", f"sum(rate({m('messages_in_total')}[$__rate_interval]))", "ops", "Messages admitted from the input topic."), 4, 4)
    L.add(stat("Enriched /s", f"sum(rate({m('messages_out_total')}[$__rate_interval]))", "ops", "Articles indexed (and produced to the output topic)."), 4, 4)
    L.add(stat("Dead-lettered (1h)", f"sum(increase({m('messages_dead_lettered_total')}[1h]))", "short", "Messages sent to the DLQ topic in the last hour.", [{"color": "green", "value": None}, {"color": "orange", "value": 1}, {"color": "red", "value": 100}], 0), 4, 4)
    L.add(stat("Consumer lag", f"sum(max by (topic, partition) ({m('consumer_lag')}))", "short", "Messages not yet done, all partitions (what KEDA scales on).", [{"color": "green", "value": None}, {"color": "orange", "value": 1000}, {"color": "red", "value": 10000}], 0), 4, 4)
    L.add(stat("Replicas reporting", f"count({m('last_progress_timestamp_seconds')})", "short", "Pods whose metrics are scraped."), 4, 4)
    L.add(stat("Oldest progress", f"time() - min({m('last_progress_timestamp_seconds')})", "s", "Seconds since the slowest pod finished a sink round (liveness fails past LIVENESS_STALL_MS with work pending).", [{"color": "green", "value": None}, {"color": "orange", "value": 60}, {"color": "red", "value": 300}], 0), 4, 4)
    L.add(ts("Consumed vs enriched", (f"sum(rate({m('messages_in_total')}[$__rate_interval]))", "consumed"), (f"sum(rate({m('messages_out_total')}[$__rate_interval]))", "enriched"), (f"sum(rate({m('messages_dead_lettered_total')}[$__rate_interval]))", "dead-lettered"), unit="ops"), 12, 8)
    L.add(ts("Consumer lag by partition", (f"max by (topic, partition) ({m('consumer_lag')})", "{{topic}}[{{partition}}]"), unit="short", desc="High watermark minus the committable offset, per input partition."), 12, 8)
    L.add(ts("Dead letters by error code", (f"sum by (code) (rate({m('messages_dead_lettered_total')}[$__rate_interval]))", "{{code}}"), unit="ops", desc="Codes: see deploy/README.md Troubleshooting (src/errors.ts)."), 12, 8)
    L.add(ts("Enriched /s by pod", (f"sum by (pod) (rate({m('messages_out_total')}[$__rate_interval]))", "{{pod}}"), unit="ops", stack=True), 12, 8)

    L.row("Inference")
    L.add(ts("Inference latency per article", *quantiles("inference_duration_seconds"), unit="s", desc="From handing an article to the extractor to its entities (queueing in the batcher included)."), 8, 8)
    L.add(ts("Windows per article", *quantiles("article_windows"), unit="short", desc="Long articles are cut into overlapping windows; cost grows with windows."), 8, 8)
    L.add(ts("In-flight articles", (f"sum by (pod) ({m('queue_articles')})", "{{pod}}"), unit="short", desc="Admitted, not yet done. At QUEUE_MAX_ARTICLES the partitions pause (backpressure)."), 8, 8)
    L.add(ts("Batch sizes (mean)", (f"sum(rate({m('fetch_batch_messages_sum')}[$__rate_interval])) / sum(rate({m('fetch_batch_messages_count')}[$__rate_interval]))", "fetched messages / batch"), (f"sum(rate({m('sink_batch_articles_sum')}[$__rate_interval])) / sum(rate({m('sink_batch_articles_count')}[$__rate_interval]))", "articles / sink round"), unit="short"), 12, 8)
    L.add(ts("Backpressure", (f"sum by (pod) ({m('paused_partitions')})", "paused partitions {{pod}}"), (f"sum(rate({m('backpressure_pauses_total')}[$__rate_interval]))", "pauses /s"), (f"sum(rate({m('backpressure_resumes_total')}[$__rate_interval]))", "resumes /s"), unit="short"), 12, 8)

    L.row("Sinks and commits")
    L.add(ts("Elasticsearch bulk latency", *quantiles("es_bulk_duration_seconds"), unit="s"), 8, 8)
    L.add(ts("Elasticsearch bulk failures", (f"sum by (reason) (rate({m('es_bulk_failures_total')}[$__rate_interval]))", "{{reason}}"), (f"sum(rate({m('es_superseded_total')}[$__rate_interval]))", "superseded (newer version stored)"), unit="ops", desc="reason=request: whole bulk failed; retry: item retried (429/5xx); reject: item dead-lettered (4xx)."), 8, 8)
    L.add(ts("Kafka produce latency", *quantiles("kafka_produce_duration_seconds"), unit="s", desc="Output + dead-letter produce per sink round (a transaction in exactly-once mode)."), 8, 8)
    L.add(ts("Offset commits", (f"sum by (outcome) (rate({m('offset_commits_total')}[$__rate_interval]))", "{{outcome}}"), unit="ops"), 8, 8)
    L.add(ts("Retries", (f"sum by (stage, code) (rate({m('retries_total')}[$__rate_interval]))", "{{stage}} {{code}}"), unit="ops"), 8, 8)
    L.add(ts("Group rebalances", (f"sum by (event) (increase({m('rebalances_total')}[$__rate_interval]))", "{{event}}"), (f"sum(rate({m('messages_key_not_id_total')}[$__rate_interval]))", "messages keyed by something else than the id /s"), unit="short", desc="Every KEDA scale step and every rollout causes one; frequent rebalances mean scaling too eagerly."), 8, 8)

    L.row("Process")
    L.add(ts("Resident memory", (f"sum by (pod) ({q('process_resident_memory_bytes')})", "{{pod}}"), unit="bytes"), 6, 8)
    L.add(ts("CPU", (f"sum by (pod) (rate({q('process_cpu_seconds_total')}[$__rate_interval]))", "{{pod}}"), unit="short", desc="Cores used (worker threads included)."), 6, 8)
    L.add(ts("Event loop lag p99", (f"max by (pod) ({q('nodejs_eventloop_lag_p99_seconds')})", "{{pod}}"), unit="s", desc="Inference runs in worker threads; a busy main loop delays Kafka heartbeats and probes."), 6, 8)
    L.add(ts("Heap used", (f"sum by (pod) ({q('nodejs_heap_size_used_bytes')})", "{{pod}}"), unit="bytes"), 6, 8)
    L.newline()

    any_metric = f"{P}messages_in_total"
    return {
        "title": "News entity enricher",
        "uid": "news-entity-enricher",
        "description": "Kafka → GLiNER → Elasticsearch enrichment: throughput, lag, inference, sinks. Generated by deploy/grafana/build_dashboard.py.",
        "tags": ["news-entity-enricher", "kafka", "elasticsearch", "onnx"],
        "editable": True,
        "graphTooltip": 1,
        "refresh": "30s",
        "schemaVersion": 39,
        "version": 1,
        "time": {"from": "now-6h", "to": "now"},
        "timezone": "",
        "links": [],
        "annotations": {"list": [{"builtIn": 1, "datasource": {"type": "grafana", "uid": "-- Grafana --"}, "enable": True, "hide": True, "iconColor": "rgba(0, 211, 255, 1)", "name": "Annotations & Alerts", "type": "dashboard"}]},
        "templating": {
            "list": [
                {"name": "datasource", "label": "Prometheus", "type": "datasource", "query": "prometheus", "current": {}, "hide": 0, "refresh": 1, "regex": "", "options": []},
                {"name": "namespace", "label": "Namespace", "type": "query", "datasource": DS, "query": {"query": f"label_values({any_metric}, namespace)", "refId": "namespace"}, "definition": f"label_values({any_metric}, namespace)", "includeAll": True, "allValue": ".*", "multi": True, "current": {}, "refresh": 2, "sort": 1, "hide": 0, "options": []},
                {"name": "pod", "label": "Pod", "type": "query", "datasource": DS, "query": {"query": f'label_values({any_metric}{{namespace=~"$namespace"}}, pod)', "refId": "pod"}, "definition": f'label_values({any_metric}{{namespace=~"$namespace"}}, pod)', "includeAll": True, "allValue": ".*", "multi": True, "current": {}, "refresh": 2, "sort": 1, "hide": 0, "options": []},
            ]
        },
        "panels": L.panels,
    }


def main():
    text = json.dumps(build(), indent=2, ensure_ascii=False) + "\n"
    if "--check" in sys.argv[1:]:
        if not OUT.exists() or OUT.read_text(encoding="utf-8") != text:
            sys.exit(f"{OUT.relative_to(ROOT)} is stale: run python3 deploy/grafana/build_dashboard.py")
        print(f"{OUT.relative_to(ROOT)}: up to date (metric prefix '{P}')")
        return
    OUT.write_text(text, encoding="utf-8")
    print(f"wrote {OUT.relative_to(ROOT)} (metric prefix '{P}')")


if __name__ == "__main__":
    main()
