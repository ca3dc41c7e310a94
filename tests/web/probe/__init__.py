"""A throwaway app with one page, to test the web shell without a real app."""

from __future__ import annotations

from smartcity.kernel.app import App

APP = App(name="probe", setup=lambda _platform: None, routes_module="tests.web.probe.routes")
