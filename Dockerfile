# One image for web, worker and beat.
FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app
RUN apt-get update && apt-get install -y --no-install-recommends libpq5 postgresql-client && rm -rf /var/lib/apt/lists/*
COPY requirements.txt .
RUN pip install -r requirements.txt
COPY . .
RUN useradd --system --home /app plnorg && mkdir -p /app/var && chown -R plnorg /app/var
# collectstatic needs a key but no services; the key is thrown away.
RUN DEBUG=0 SECRET_KEY=build-only DATABASE_URL=postgres://x@localhost/x python manage.py collectstatic --noinput
USER plnorg
EXPOSE 8000
CMD ["gunicorn", "plnorg.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "4", "--access-logfile", "-"]
