# The stridewatch image: every service in docker-compose.yml runs one `stridewatch` command.
FROM python:3.11-slim

WORKDIR /src
COPY pyproject.toml README.md ./
COPY ingest ingest
COPY scoring scoring
COPY simulators simulators
COPY stridewatch stridewatch
RUN pip install --no-cache-dir . && rm -rf /src

# Not root: a service that is broken into gets no more than its own files.
RUN useradd --system --create-home --uid 10001 stridewatch
USER stridewatch
WORKDIR /home/stridewatch

ENTRYPOINT ["stridewatch"]
CMD ["--help"]
