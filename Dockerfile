# One image for the web server, the timer worker and the one-shot migration job.
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
RUN apt-get update && apt-get install -y --no-install-recommends nodejs npm tzdata \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY pyproject.toml README.md ./
COPY service ./service
RUN pip install --no-cache-dir .
COPY package.json package-lock.json* ./
COPY scripts ./scripts
RUN if [ -f package.json ]; then npm ci --omit=dev && node scripts/build-assets.mjs 2>/dev/null || python scripts/build_assets.py; fi
COPY processes ./processes
COPY forms ./forms
COPY catalog ./catalog
RUN useradd --system --home /app shudi && mkdir -p /app/var && chown shudi /app/var
USER shudi
EXPOSE 8000
CMD ["gunicorn", "--bind", "0.0.0.0:8000", "--workers", "4", "service.wsgi:app"]
