# One image for the web server, the timer worker and the one-shot migration job.
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
RUN apt-get update && apt-get install -y --no-install-recommends nodejs npm tzdata \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
# Front-end packages from npm, copied into service/static/vendor (no CDN).
COPY package.json package-lock.json .npmrc ./
COPY scripts ./scripts
COPY service ./service
RUN npm ci --no-audit --no-fund && npm run build && rm -rf node_modules
# Installed in place, so processes/, forms/ and catalog/ beside service/ are found.
COPY pyproject.toml README.md ./
RUN pip install --no-cache-dir -e .
COPY processes ./processes
COPY forms ./forms
COPY catalog ./catalog
RUN useradd --system --home /app shudi && mkdir -p /app/var && chown shudi /app/var
USER shudi
EXPOSE 8000
CMD ["gunicorn", "--bind", "0.0.0.0:8000", "--workers", "4", "service.wsgi:app"]
