"""Prefect tasks: thin wrappers that open a session, call models/ code and write in bulk."""

from config.settings import prepare_prefect_env

prepare_prefect_env()
