# The mdbc_py agent and CLI in one image (used by docker-compose.yml).
FROM python:3.11-slim
WORKDIR /opt/mdbc_py
COPY pyproject.toml README.md ./
COPY mdbc_py ./mdbc_py
COPY cli ./cli
RUN pip install --no-cache-dir .
ENTRYPOINT ["mdbc"]
