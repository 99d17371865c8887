"""Prometheus metrics: HTTP requests of this app, and the job picture read at scrape time.

Each app gets its own :class:`~prometheus_client.CollectorRegistry` (two apps in one
process, as in the tests, never share counters). The request hooks are installed
by the ``ops`` blueprint when it is registered (:func:`install`).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from flask import Flask, Response, g, request
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy.orm import Session

from multiflexi.core import jobs, queue, tasks
from multiflexi.core.models import Job

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

    from prometheus_client.metrics_core import Metric
    from redis import Redis

EXTENSION = "multiflexi.metrics"
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
#: upper bounds (seconds) of the job duration histogram
JOB_DURATION_BUCKETS = (1.0, 5.0, 15.0, 60.0, 300.0, 900.0, 3600.0, 4 * 3600.0, 86400.0)
#: final states whose jobs ran (have a start and an end) and enter the histogram
TIMED_STATES = ("success", "failed", "lost", "cancelled")


class HttpMetrics:
    """The per-app registry with the request counter and latency histogram."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "multiflexi_http_requests",
            "HTTP requests answered, by method, route and status code.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "multiflexi_http_request_duration_seconds",
            "Time to answer an HTTP request, by method and route.",
            ["method", "route"],
            registry=self.registry,
        )


def install(app: Flask) -> HttpMetrics:
    """Give ``app`` its registry and the hooks that count and time every request."""
    existing = app.extensions.get(EXTENSION)
    if isinstance(existing, HttpMetrics):
        return existing
    metrics = app.extensions[EXTENSION] = HttpMetrics()

    @app.before_request
    def _start_timer() -> None:
        g._multiflexi_started = time.perf_counter()

    @app.after_request
    def _observe(response: Response) -> Response:
        started = g.pop("_multiflexi_started", None)
        # the route pattern, not the path: /api/v1/jobs/<int:job_id>, never one per id
        route = request.url_rule.rule if request.url_rule is not None else "(unmatched)"
        metrics.requests.labels(request.method, route, str(response.status_code)).inc()
        if started is not None:
            metrics.latency.labels(request.method, route).observe(time.perf_counter() - started)
        return response

    return metrics


def _duration_seconds(dialect: str) -> sa.ColumnElement[Any]:
    started, finished = Job.__table__.c.started_at, Job.__table__.c.finished_at
    if dialect == "sqlite":
        return (sa.func.julianday(finished) - sa.func.julianday(started)) * 86400.0
    if dialect in ("mysql", "mariadb"):
        return sa.func.timestampdiff(sa.literal_column("MICROSECOND"), started, finished) / 1e6
    return sa.extract("epoch", finished - started)


class JobCollector(Collector):
    """Jobs by state, the job duration histogram, queue depths; read when scraped."""

    def __init__(self, session: Session, redis: Redis) -> None:
        self.session = session
        self.redis = redis

    def collect(self) -> Iterator[Metric]:
        yield from self._database()
        yield from self._queues()

    def _database(self) -> Iterable[Metric]:
        up = GaugeMetricFamily("multiflexi_database_up", "1 when the database answered.")
        try:
            counts = dict(
                self.session.execute(
                    sa.select(Job.state, sa.func.count()).group_by(Job.state)
                ).all()
            )
            histogram = self._durations()
            task_counts = tasks.counts(self.session)
        except sa.exc.SQLAlchemyError:
            self.session.rollback()
            up.add_metric([], 0)
            return [up]
        up.add_metric([], 1)
        states = GaugeMetricFamily(
            "multiflexi_jobs", "Jobs in the database, by state.", labels=["state"]
        )
        for state in jobs.STATES:
            states.add_metric([state], counts.get(state, 0))
        by_task_state = GaugeMetricFamily(
            "multiflexi_tasks", "SLA tasks (scheduled windows) by state.", labels=["state"]
        )
        for state, number in task_counts.items():
            by_task_state.add_metric([state], number)
        return [up, states, by_task_state, histogram]

    def _durations(self) -> HistogramMetricFamily:
        dialect = self.session.get_bind().dialect.name
        duration = _duration_seconds(dialect)
        columns: list[sa.ColumnElement[Any]] = [
            sa.func.sum(sa.case((duration <= bound, 1), else_=0)) for bound in JOB_DURATION_BUCKETS
        ]
        rows = self.session.execute(
            sa.select(Job.state, sa.func.count(), sa.func.sum(duration), *columns)
            .where(
                Job.state.in_(TIMED_STATES),
                Job.started_at.is_not(None),
                Job.finished_at.is_not(None),
            )
            .group_by(Job.state)
        ).all()
        family = HistogramMetricFamily(
            "multiflexi_job_duration_seconds",
            "Run time of finished jobs (start to end), by final state.",
            labels=["state"],
        )
        by_state = {row[0]: row for row in rows}
        for state in TIMED_STATES:
            row = by_state.get(state)
            total, seconds = (int(row[1]), float(row[2] or 0)) if row else (0, 0.0)
            cumulative = [int(value or 0) for value in row[3:]] if row else [0] * len(columns)
            buckets = [
                (_bound(bound), count)
                for bound, count in zip(JOB_DURATION_BUCKETS, cumulative, strict=True)
            ]
            buckets.append(("+Inf", total))
            family.add_metric([state], buckets, sum_value=seconds)
        return family

    def _queues(self) -> Iterable[Metric]:
        up = GaugeMetricFamily("multiflexi_redis_up", "1 when Redis answered.")
        try:
            depths = queue.depths(self.redis)
        except queue.QueueUnavailable:
            up.add_metric([], 0)
            return [up]
        up.add_metric([], 1)
        family = GaugeMetricFamily(
            "multiflexi_queue_depth", "Deliveries waiting in each RQ queue.", labels=["queue"]
        )
        for name, depth in sorted(depths.items()):
            family.add_metric([name], depth)
        return [up, family]


def _bound(value: float) -> str:
    return str(int(value)) if value.is_integer() else str(value)


def render(app: Flask, session: Session, redis: Redis) -> bytes:
    """The text exposition: this app's HTTP metrics, then the job picture of now."""
    metrics = app.extensions.get(EXTENSION)
    scrape = CollectorRegistry(auto_describe=False)
    scrape.register(JobCollector(session, redis))
    head = generate_latest(metrics.registry) if isinstance(metrics, HttpMetrics) else b""
    return head + generate_latest(scrape)
