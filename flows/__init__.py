"""Prefect flows (sequencing only), the CLI and the demo.

Prefect reads its settings when imported, so its home is pointed into CAMPAIGN_HOME here,
before any flow module imports prefect.
"""

from config.settings import prepare_prefect_env

prepare_prefect_env()
