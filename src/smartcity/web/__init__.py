"""What apps build their pages and endpoints with.

- ``shell``: the layout every page extends (``templates/base.html``), static files and
  the reader's language; :class:`smartcity.web.shell.WebShell` renders pages.
- ``i18n``: translations (zh_CN source strings, English catalog under ``translations/``).

The web layer knows no app and no part of ``smartcity.api``: apps' routes use both (the
HTTP toolkit in ``smartcity.api``: dependencies, responses, problem documents).
"""
