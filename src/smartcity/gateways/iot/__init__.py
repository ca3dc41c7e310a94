"""The IoT agent: a device registry and ingestion of device measures over HTTP and MQTT.

Devices are provisioned with an entity and an attribute mapping (FIWARE IoT Agent
style); their measures (JSON, UltraLight 2.0, MQTT ``/<apikey>/<device_id>/attrs``)
become attribute updates of that entity, written through the information library with
``observedAt`` from the device or from the platform clock on receipt.
"""

from smartcity.gateways.iot.agent import IotAgent, Update
from smartcity.gateways.iot.library import ContextWriter
from smartcity.gateways.iot.models import Device

__all__ = ["ContextWriter", "Device", "IotAgent", "Update"]
