# The crsmon application: one image for every component (worker, dispatcher, dashboard, ingest,
# webhook-sink); docker-compose.yml chooses the component with the command. See docs/deploy.md.
#
# Two stages: the first builds wheels of crsmon and all its dependencies, the second installs
# only those wheels, so the image carries no build tools and no source tree.

FROM python:3.11-slim AS wheels
WORKDIR /src
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
COPY pyproject.toml README.md requirements.lock ./
COPY monitor monitor
COPY kafka_client kafka_client
COPY streams streams
COPY gateway gateway
COPY simulator simulator
COPY alerting alerting
COPY validation validation
COPY crsmon crsmon
# The versions the test suite passed with (requirements.lock; `make install` uses it too).
RUN pip wheel --constraint requirements.lock --wheel-dir /wheels .

FROM python:3.11-slim
ENV PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
COPY --from=wheels /wheels /tmp/wheels
RUN pip install --no-index --find-links /tmp/wheels crsmon && rm -rf /tmp/wheels
# Never root: a service that reads patient data runs as a user that owns nothing but its state.
RUN groupadd --system --gid 10001 crsmon \
 && useradd --system --uid 10001 --gid crsmon --home-dir /var/lib/crsmon --create-home --shell /usr/sbin/nologin crsmon
WORKDIR /var/lib/crsmon
USER crsmon:crsmon
# Worker state (RocksDB) and the dispatcher's ledger live here; mount a volume to keep them.
ENV CRSMON_DATA_DIR=/var/lib/crsmon/worker
VOLUME ["/var/lib/crsmon"]
# worker metrics/health, dashboard, ingest FHIR and metrics, ingest MLLP, dispatcher acks and metrics
EXPOSE 6066 8080 8090 2575 9095
ENTRYPOINT ["crsmon"]
CMD ["--help"]
