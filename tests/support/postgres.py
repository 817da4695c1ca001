"""A throwaway PostgreSQL cluster for the tests (faults.postgres), missing loudly in CI."""

from __future__ import annotations

from pbx_bridge.faults.postgres import PostgresCluster, PostgresUnavailable
from tests.support.ci import missing

__all__ = ["PostgresCluster", "PostgresUnavailable", "start_cluster"]


def start_cluster() -> PostgresCluster:
    try:
        cluster = PostgresCluster.create()
    except PostgresUnavailable as error:
        missing(str(error), tests="PostgreSQL")
    try:
        cluster.start()
    except RuntimeError:
        cluster.remove()
        raise  # installed but broken: an error, never a skip
    return cluster
