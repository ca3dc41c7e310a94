"""Gateways: how devices and outside systems feed the city information library.

A gateway turns what arrives from the field (HTTP posts, MQTT messages) into NGSI-LD
attribute updates written through the library. It sits above the api toolkit (its HTTP
routes use ``api.dependencies`` and ``api.responses`` like an app does) and below the
applications and the simulation, which may provision devices and stream measurements.
"""

# Modules declaring the gateways' tables. Their migrations live with every other one in
# kernel/storage/migrations and always run, so whoever loads the schema for migrations or
# for comparison must import these too (the kernel names them only as strings).
GATEWAY_TABLE_MODULES: tuple[str, ...] = ("smartcity.gateways.iot.tables",)
