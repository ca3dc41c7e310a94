"""The kernel: what every application may use. It never imports an application."""
