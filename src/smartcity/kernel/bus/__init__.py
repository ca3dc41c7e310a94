"""The event bus: typed, frozen events; ordered per topic; async subscribers.

Events are frozen dataclasses deriving from :class:`Event`, each with a ``topic`` named
``<area>.<noun>_<past verb>`` (``hotline.ticket_dispatched``). Publishers call
``bus.publish(event)`` after their transaction commits.
"""

from smartcity.kernel.bus.base import Accepts, Bus, Event, Handler, Subscription, open_bus

__all__ = ["Accepts", "Bus", "Event", "Handler", "Subscription", "open_bus"]
