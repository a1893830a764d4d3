"""Data availability (spec/AVAILABILITY.md) as one package; pure: no Flask, no database, no clock.

- ``engine``: the rules, bins and deployments → spans, and the ``Timeline`` one request answers;
- ``report``: a Timeline's text forms (visavail.js JSON, CSV, TSV) and the ``Style`` they are drawn in;
- ``svg``: a Timeline drawn as one self-contained SVG image.

The HTTP side stays with the API: ``ooi_status.api.availability`` reads a request's inputs
through the metadata sources and runs the engine; ``ooi_status.api.views.availability`` answers.
"""
