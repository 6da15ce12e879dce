"""`crsmon dispatch`: read the configuration, apply the command line's overrides, run."""

from __future__ import annotations

import logging
import sys

from alerting.dispatch.config_file import ConfigError, load_config
from kafka_client.security import KafkaSecurity, KafkaSecurityError


def dispatch_command(path: str, *, broker: str | None = None, state: str | None = None, port: int | None = None) -> int:
    try:
        config = load_config(path)
    except ConfigError as error:
        print(f"crsmon dispatch: the configuration is invalid; nothing was started.\n{error}", file=sys.stderr)
        return 2
    updates: dict = {}
    if broker:
        updates["kafka"] = config.kafka.model_copy(update={"bootstrap": broker})
    if state:
        updates["state_path"] = state
    if port is not None:
        updates["http"] = config.http.model_copy(update={"port": port})
    config = config.model_copy(update=updates)
    try:
        KafkaSecurity.from_env()  # a wrong TLS/SASL setting stops here, saying which and why
    except KafkaSecurityError as error:
        print(f"crsmon dispatch: {error}", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("aiokafka").setLevel(logging.WARNING)
    from alerting.dispatch.service import run_dispatcher

    return run_dispatcher(config)
