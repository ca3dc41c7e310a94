# The two commands a fresh machine needs: `make demo` and `make test`.
.PHONY: demo test check assets bootstrap bench seed-city format

# `make demo MQTT=1` also starts a local Mosquitto broker for device ingestion over MQTT.
demo: bootstrap
	@if [ -n "$(MQTT)" ]; then \
	  export SMARTCITY_MQTT_URL="$$(scripts/mosquitto start)"; \
	  echo "MQTT broker: $$SMARTCITY_MQTT_URL"; \
	fi; \
	uv run smartcity demo

test: 
	scripts/bootstrap --test
	scripts/check

check:
	scripts/check

bootstrap:
	scripts/bootstrap

assets:
	npm ci --no-audit --no-fund && scripts/vendor-assets

bench: bootstrap
	uv run python bench/seed.py

format:
	uv run ruff format src tests bench && uv run ruff check --fix src tests bench
