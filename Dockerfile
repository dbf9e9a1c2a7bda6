# One image for the web server, the worker and beat; built with WITH_SIMULATOR=1 it also runs the demo simulator.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    DASHBOARD_VAR_DIR=/app/var

WORKDIR /app
COPY requirements.txt .
COPY cloudsim/requirements.txt cloudsim/requirements.txt
# The demo simulator's requirements only in the image built with WITH_SIMULATOR=1.
ARG WITH_SIMULATOR=0
RUN pip install --no-cache-dir -r requirements.txt \
    && if [ "$WITH_SIMULATOR" = 1 ]; then pip install --no-cache-dir -r cloudsim/requirements.txt; fi

COPY . .
# Static files are collected at build time and served by whitenoise.
RUN SECRET_KEY=collectstatic-only DEBUG=0 python manage.py collectstatic --noinput -v 0 \
    && useradd --system --home /app app \
    && mkdir -p /app/var && chown -R app /app/var

USER app
EXPOSE 8000
CMD ["gunicorn", "--config", "deploy/gunicorn.conf.py", "dashboard.wsgi"]
