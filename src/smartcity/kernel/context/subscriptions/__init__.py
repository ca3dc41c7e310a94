"""NGSI-LD subscriptions: CRUD (:class:`SubscriptionActions`) and the :class:`Notifier`
that matches entity changes against them and delivers notifications over HTTP and MQTT.
"""

from smartcity.kernel.context.subscriptions.actions import SubscriptionActions
from smartcity.kernel.context.subscriptions.documents import subscription_document
from smartcity.kernel.context.subscriptions.events import SubscriptionChanged
from smartcity.kernel.context.subscriptions.model import Subscription
from smartcity.kernel.context.subscriptions.notifier import Notifier, start_notifier
from smartcity.kernel.context.subscriptions.settings import NotifierSettings

__all__ = [
    "Notifier",
    "NotifierSettings",
    "Subscription",
    "SubscriptionActions",
    "SubscriptionChanged",
    "start_notifier",
    "subscription_document",
]
