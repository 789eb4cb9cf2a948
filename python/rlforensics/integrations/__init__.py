"""Integrations with training frameworks. Each imports its framework lazily, so importing
:mod:`rlforensics` never imports them."""
