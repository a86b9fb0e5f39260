"""The series an agent, a driver process or a proxy exports, read from the collectors.

A labelled collector exports no sample until its first ``labels()`` call, so
a scrape cannot list every series. The families of ``AgentMetrics`` can: each
family's type says which sample names Prometheus will see (``_total`` for a
counter, ``_bucket``/``_sum``/``_count`` for a histogram ...).
"""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client.metrics import MetricWrapperBase

from mdbc_py.metrics import AgentMetrics

SAMPLE_SUFFIXES: dict[str, tuple[str, ...]] = {
    "counter": ("_total", "_created"),
    "gauge": ("",),
    "histogram": ("_bucket", "_sum", "_count", "_created"),
    "summary": ("", "_sum", "_count", "_created"),
    "info": ("_info",),
    "stateset": ("",),
    "enum": ("",),
    "gaugehistogram": ("_bucket", "_gsum", "_gcount"),
    "unknown": ("",),
}
"""Sample names per family type, as prometheus_client's text exposition writes them."""


@dataclass(frozen=True)
class MetricFamily:
    """One exported metric: its family name, type, help text and label names."""

    name: str
    kind: str
    help: str
    labels: tuple[str, ...]

    @property
    def samples(self) -> tuple[str, ...]:
        """The sample (series) names a scrape shows for this family."""
        return tuple(self.name + s for s in SAMPLE_SUFFIXES.get(self.kind, ("",)))

    @property
    def main_sample(self) -> str:
        """The sample a query uses: ``x_total`` for a counter, the name for a gauge."""
        return self.samples[0]


def families(owner: object) -> list[MetricFamily]:
    """Every collector among ``owner``'s attributes (e.g. an ``AgentMetrics``), in order."""
    found: list[MetricFamily] = []
    for collector in vars(owner).values():
        if not isinstance(collector, MetricWrapperBase):
            continue
        # describe() gives the family even while no label set has a sample; the
        # label names are only kept on the collector itself.
        labels = tuple(getattr(collector, "_labelnames", ()))
        for family in collector.describe():
            found.append(MetricFamily(family.name, family.type, family.documentation, labels))
    return found


def agent_families() -> list[MetricFamily]:
    """The families of a site agent's ``AgentMetrics``."""
    return families(AgentMetrics("example"))


def driver_families() -> list[MetricFamily]:
    """The families a driver process exports once it opts in (``mdbc_py.core.commit_metrics``)."""
    from prometheus_client import CollectorRegistry

    from mdbc_py.core.commit_metrics import DriverMetrics

    return families(DriverMetrics(CollectorRegistry()))


def proxy_families() -> list[MetricFamily]:
    """The families ``mdbc proxy`` exports (``mdbc_py.proxy.metrics``)."""
    from mdbc_py.proxy.metrics import ProxyMetrics

    return families(ProxyMetrics("example"))


def agent_series() -> set[str]:
    """Every series name an agent can export."""
    return {s for f in agent_families() for s in f.samples}
