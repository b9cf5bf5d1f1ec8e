"""Prometheus metrics shared by the web layer and the job workers (per process)."""

from prometheus_client import CollectorRegistry, Gauge, Histogram

REGISTRY = CollectorRegistry()
REQUEST_SECONDS = Histogram("kartoteka_request_seconds", "HTTP request latency",
                            ["method", "endpoint", "status"], registry=REGISTRY)
JOB_SECONDS = Histogram("kartoteka_job_seconds", "Job run time", ["job", "state"],
                        registry=REGISTRY)
JOBS = Gauge("kartoteka_jobs", "Jobs by state", ["state"], registry=REGISTRY)
QUEUE = Gauge("kartoteka_queue_depth", "Jobs due and waiting to run", registry=REGISTRY)
